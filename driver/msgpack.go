package driver

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The few MessagePack forms the fluentd forward protocol needs, written as
// g3's rmp calls write them: strings, arrays and maps in their smallest
// form; integers in the fixed form of their Rust type, as rmp's write_u16,
// write_u32, write_u64, write_i64, ... do (never the smallest form).

func mpArray(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
	}
}

func mpMap(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
	}
}

func mpStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func mpBin(b []byte, v []byte) []byte {
	n := len(v)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, v...)
}

func mpNil(b []byte) []byte { return append(b, 0xc0) }

func mpBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// mpUint writes v in the fixed form of an unsigned integer of width bits
// (8, 16, 32 or 64); mpInt likewise for a signed one.
func mpUint(b []byte, v uint64, width uint8) []byte { return mpFixed(b, 0xcc, v, width) }

func mpInt(b []byte, v int64, width uint8) []byte { return mpFixed(b, 0xd0, uint64(v), width) }

// mpFixed writes v's low width bits, big-endian, after the tag of that
// width: tag8 for 8 bits, then tag8+1, +2 and +3 for 16, 32 and 64, as
// MessagePack numbers its uint and int forms.
func mpFixed(b []byte, tag8 byte, v uint64, width uint8) []byte {
	switch width {
	case 8:
		return append(b, tag8, byte(v))
	case 16:
		return binary.BigEndian.AppendUint16(append(b, tag8+1), uint16(v))
	case 32:
		return binary.BigEndian.AppendUint32(append(b, tag8+2), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, tag8+3), v)
	}
}

func mpFloat(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
}

// mpEventTime appends fluentd's EventTime: ext type 0, 32-bit seconds and
// nanoseconds, big-endian.
func mpEventTime(b []byte, t time.Time) []byte {
	b = append(b, 0xd7, 0x00)
	b = binary.BigEndian.AppendUint32(b, uint32(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// mpReader reads the forms of the handshake messages (HELO, PONG).
type mpReader struct{ b []byte }

var errShort = errors.New("msgpack: message ends early")

func (r *mpReader) byte1() (byte, error) {
	if len(r.b) < 1 {
		return 0, errShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *mpReader) uintN(n int) (uint64, error) {
	if len(r.b) < n {
		return 0, errShort
	}
	var v uint64
	for _, c := range r.b[:n] {
		v = v<<8 | uint64(c)
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *mpReader) take(n uint64) ([]byte, error) {
	if uint64(len(r.b)) < n {
		return nil, errShort
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v, nil
}

func (r *mpReader) arrayLen() (int, error) {
	c, err := r.byte1()
	switch {
	case err != nil:
		return 0, err
	case c&0xf0 == 0x90:
		return int(c & 0x0f), nil
	case c == 0xdc:
		n, err := r.uintN(2)
		return int(n), err
	case c == 0xdd:
		n, err := r.uintN(4)
		return int(n), err
	}
	return 0, errors.New("msgpack: not an array")
}

func (r *mpReader) mapLen() (int, error) {
	c, err := r.byte1()
	switch {
	case err != nil:
		return 0, err
	case c&0xf0 == 0x80:
		return int(c & 0x0f), nil
	case c == 0xde:
		n, err := r.uintN(2)
		return int(n), err
	case c == 0xdf:
		n, err := r.uintN(4)
		return int(n), err
	}
	return 0, errors.New("msgpack: not a map")
}

// bytes reads a str or a bin.
func (r *mpReader) bytes() ([]byte, error) {
	c, err := r.byte1()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n, err = r.uintN(1)
	case c == 0xda || c == 0xc5:
		n, err = r.uintN(2)
	case c == 0xdb || c == 0xc6:
		n, err = r.uintN(4)
	default:
		return nil, errors.New("msgpack: not a string")
	}
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

func (r *mpReader) boolean() (bool, error) {
	c, err := r.byte1()
	switch {
	case err != nil:
		return false, err
	case c == 0xc3:
		return true, nil
	case c == 0xc2:
		return false, nil
	}
	return false, errors.New("msgpack: not a bool")
}

// skip reads over one value of any of the forms above, or a scalar.
func (r *mpReader) skip() error {
	if len(r.b) == 0 {
		return errShort
	}
	c := r.b[0]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		r.b = r.b[1:]
		return nil
	case c&0xe0 == 0xa0, c == 0xd9, c == 0xda, c == 0xdb, c == 0xc4, c == 0xc5, c == 0xc6:
		_, err := r.bytes()
		return err
	case c&0xf0 == 0x90, c == 0xdc, c == 0xdd:
		n, err := r.arrayLen()
		for i := 0; err == nil && i < n; i++ {
			err = r.skip()
		}
		return err
	case c&0xf0 == 0x80, c == 0xde, c == 0xdf:
		n, err := r.mapLen()
		for i := 0; err == nil && i < 2*n; i++ {
			err = r.skip()
		}
		return err
	}
	sizes := map[byte]uint64{0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xca: 4, 0xcb: 8,
		0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}
	if n, ok := sizes[c]; ok {
		r.b = r.b[1:]
		_, err := r.take(n)
		return err
	}
	return errors.New("msgpack: unsupported form")
}
