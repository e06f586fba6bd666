#!/bin/sh
# models/finish.sh PID: wait for the `make models` run with process id PID to
# end, then (if every model file exists) regenerate the model card and chart,
# check every shipped file against its recorded accuracy, and commit
# models/weights. Logs to models/finish.log.
set -u
pid=$1
cd "$(dirname "$0")/.." || exit 1
while kill -0 "$pid" 2>/dev/null; do sleep 30; done
for f in fashion-oct-a000 fashion-oct-a125 fashion-oct-a250 fashion-oct-a500 fashion-oct-a750 mnist-oct-a500; do
	test -f "models/weights/$f.safetensors" || { echo "missing $f: not committing"; exit 1; }
done
go run ./models/card || exit 1
GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test -count=1 -v ./models/ || exit 1
for i in 1 2 3 4 5 6 7 8 9 10; do
	git add models/weights && git commit -m "models: the six trained oct-resnet-mini models (int8), model card and accuracy chart" -- models/weights && exit 0
	sleep 20
done
exit 1
