package train

// transpose8Go is the portable 8 x 8 transpose: dst[i*ldd+j] = src[j*lds+i].
func transpose8Go(dst []float32, ldd int, src []float32, lds int) {
	_ = dst[7*ldd+7]
	_ = src[7*lds+7]
	for j := 0; j < 8; j++ {
		s := src[j*lds : j*lds+8]
		for i, v := range s {
			dst[i*ldd+j] = v
		}
	}
}
