package main

// Memory limits of the Worker's Go program (docs/DEPLOY.md, "Memory of the
// Worker"). A Cloudflare isolate has 128 MB for its JavaScript heap and its
// WebAssembly memory together; the shim (shim/worker.mjs) holds at most 16 MiB
// of request bodies, and the Go program's linear memory never shrinks once
// grown.
const (
	// DecodeBudget bounds the decoding memory of one image
	// (imageio.DecodeCost): 48 MiB, more than any image within MaxPixels
	// needs but an interlaced 16-bit one; larger images get 413.
	// The Go program handles one request at a time, so this is also the
	// decoding memory of the whole isolate.
	DecodeBudget = 48 << 20
	// MemoryLimit is the Go runtime's soft memory limit
	// (runtime/debug.SetMemoryLimit): near it the collector runs more often
	// instead of growing the heap.
	MemoryLimit = 96 << 20
	// MaxPixels bounds an image's width x height (a 1080p frame, 2.07
	// megapixels, fits): the Go program handles one request at a time, and
	// decoding and scaling take about 0.2 microseconds a pixel in
	// WebAssembly, so this keeps the delay that one large image causes the
	// requests behind it under a second. Larger images get 413.
	MaxPixels = 2_500_000
	// BufferBudget is the shim's BUFFER_BUDGET: the bytes of request bodies
	// that it holds at once, over all requests in progress.
	BufferBudget = 16 << 20
)
