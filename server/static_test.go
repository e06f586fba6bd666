package server

import "testing"

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"": "", "gzip": "gzip", "br": "br", "gzip, br": "br", "br;q=0, gzip": "gzip", "br;q=0.0, gzip;q=0": "", "gzip;q=0.5": "gzip", "identity": "",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}
