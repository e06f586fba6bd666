package onnx

import (
	"encoding/binary"
	"math"
)

// buf is a protocol buffers encoder for the few ONNX messages the exporter
// writes. Only the wire types it needs: varint (0), length-delimited (2) and
// 32-bit (5).
type buf []byte

func (b *buf) varint(v uint64) {
	*b = binary.AppendUvarint(*b, v)
}

func (b *buf) tag(field, wire int) { b.varint(uint64(field)<<3 | uint64(wire)) }

// int writes a varint field (int32, int64 and enums; negative values take
// ten bytes, as protobuf says).
func (b *buf) int(field int, v int64) {
	b.tag(field, 0)
	b.varint(uint64(v))
}

func (b *buf) bytes(field int, v []byte) {
	b.tag(field, 2)
	b.varint(uint64(len(v)))
	*b = append(*b, v...)
}

func (b *buf) str(field int, s string) { b.bytes(field, []byte(s)) }

func (b *buf) msg(field int, m buf) { b.bytes(field, m) }

func (b *buf) float(field int, v float32) {
	b.tag(field, 5)
	*b = binary.LittleEndian.AppendUint32(*b, math.Float32bits(v))
}

// packedInts writes a packed repeated varint field.
func (b *buf) packedInts(field int, vs []int64) {
	var p buf
	for _, v := range vs {
		p.varint(uint64(v))
	}
	b.bytes(field, p)
}

// ONNX field numbers (onnx.proto, IR version 8).
const (
	modelIRVersion   = 1
	modelProducer    = 2
	modelProducerVer = 3
	modelDoc         = 6
	modelGraph       = 7
	modelOpset       = 8

	opsetDomain  = 1
	opsetVersion = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeInput  = 1
	nodeOutput = 2
	nodeName   = 3
	nodeOpType = 4
	nodeAttr   = 5

	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrS      = 4
	attrInts   = 8
	attrType   = 20
	attrFloat  = 1 // AttributeProto.FLOAT
	attrInt    = 2 // AttributeProto.INT
	attrString = 3 // AttributeProto.STRING
	attrIntsT  = 7 // AttributeProto.INTS

	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRaw      = 9

	dtFloat = 1 // TensorProto.FLOAT
	dtInt64 = 7 // TensorProto.INT64

	valueName = 1
	valueType = 2

	typeTensor     = 1
	tensorElemType = 1
	tensorShape    = 2
	shapeDim       = 1
	dimValue       = 1
)

// attr is one node attribute.
type attr struct {
	name string
	kind int // attrFloat, attrInt, attrString, attrIntsT
	i    int64
	f    float32
	s    string
	ints []int64
}

func intAttr(name string, v int64) attr     { return attr{name: name, kind: attrInt, i: v} }
func intsAttr(name string, v ...int64) attr { return attr{name: name, kind: attrIntsT, ints: v} }
func strAttr(name, v string) attr           { return attr{name: name, kind: attrString, s: v} }
func floatAttr(name string, v float32) attr { return attr{name: name, kind: attrFloat, f: v} }

func (a attr) encode() buf {
	var b buf
	b.str(attrName, a.name)
	switch a.kind {
	case attrFloat:
		b.float(attrF, a.f)
	case attrInt:
		b.int(attrI, a.i)
	case attrString:
		b.str(attrS, a.s)
	case attrIntsT:
		for _, v := range a.ints {
			b.int(attrInts, v)
		}
	}
	b.int(attrType, int64(a.kind))
	return b
}

// node is one NodeProto.
type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []attr
}

func (n *node) encode() buf {
	var b buf
	for _, s := range n.inputs {
		b.str(nodeInput, s)
	}
	for _, s := range n.outputs {
		b.str(nodeOutput, s)
	}
	b.str(nodeName, n.name)
	b.str(nodeOpType, n.op)
	for _, a := range n.attrs {
		b.msg(nodeAttr, a.encode())
	}
	return b
}

// initializer is one TensorProto holding constant data, raw little-endian.
type initializer struct {
	name  string
	dims  []int64
	dtype int
	raw   []byte
}

func (t *initializer) encode() buf {
	var b buf
	for _, d := range t.dims {
		b.int(tensorDims, d)
	}
	b.int(tensorDataType, int64(t.dtype))
	b.str(tensorName, t.name)
	b.bytes(tensorRaw, t.raw)
	return b
}

// valueInfo encodes a ValueInfoProto of a float tensor with a fixed shape.
func valueInfo(name string, dims []int64) buf {
	var shape buf
	for _, d := range dims {
		var dim buf
		dim.int(dimValue, d)
		shape.msg(shapeDim, dim)
	}
	var tt buf
	tt.int(tensorElemType, dtFloat)
	tt.msg(tensorShape, shape)
	var tp buf
	tp.msg(typeTensor, tt)
	var b buf
	b.str(valueName, name)
	b.msg(valueType, tp)
	return b
}
