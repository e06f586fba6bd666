module github.com/octave-project/octave

go 1.26

require github.com/chewxy/math32 v1.11.1 // indirect
