package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
)

// Well-known stream names. Any other name works too; these are the ones the world itself uses.
const (
	StreamGUIDs     = "guids"     // objectGUIDs and invocationIds minted by the directory
	StreamDomainSID = "domainsid" // the domain SID's three sub-authorities
	StreamPasswords = "passwords" // generated account passwords (the default admin password)
	// StreamDCPrefix + a DC's name ("dc/DC1") is the stream of that DC's computer-account
	// password: one stream per DC, so adding a DC shifts no other DC's password.
	StreamDCPrefix = "dc/"
)

// Stream is one named random stream: a ChaCha8 generator seeded with SHA-256(seed || name), so
// its draws depend only on the world's seed and its own name. Adding a new consumer (a new name)
// never shifts what another consumer draws. It embeds *rand.Rand for numbers and is an io.Reader
// for key material. Not safe for concurrent use; the world serialises its users.
type Stream struct {
	*rand.Rand
	src  *rand.ChaCha8
	name string
}

// Read fills p with bytes of the stream. It never fails.
func (s *Stream) Read(p []byte) (int, error) { return s.src.Read(p) }

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Streams hands out the named streams of one seed. Asking twice for a name returns the same
// stream, continuing where it left off.
type Streams struct {
	seed    uint64
	streams map[string]*Stream
}

// NewStreams returns the streams of seed.
func NewStreams(seed uint64) *Streams {
	return &Streams{seed: seed, streams: map[string]*Stream{}}
}

// Seed is the seed the streams derive from.
func (s *Streams) Seed() uint64 { return s.seed }

// Get returns the stream called name.
func (s *Streams) Get(name string) *Stream {
	if st, ok := s.streams[name]; ok {
		return st
	}
	st := newStream(s.seed, name)
	s.streams[name] = st
	return st
}

// Names lists the streams handed out so far, sorted.
func (s *Streams) Names() []string {
	names := make([]string, 0, len(s.streams))
	for n := range s.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func newStream(seed uint64, name string) *Stream {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	src := rand.NewChaCha8(key)
	return &Stream{Rand: rand.New(src), src: src, name: name}
}

// GUIDSource implements fakead.IDSource from a stream: random (version 4) GUIDs, stable for a seed.
type GUIDSource struct{ S *Stream }

// NewGUID draws the next GUID. The bytes are in MS-DTYP order (Data1..Data3 little-endian), so the
// version nibble sits in the high half of byte 7 and the RFC 4122 variant in byte 8.
func (g GUIDSource) NewGUID() ad.GUID {
	var id ad.GUID
	g.S.Read(id[:])
	id[7] = id[7]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

var _ fakead.IDSource = GUIDSource{}

// DomainSID derives a domain SID S-1-5-21-x-y-z from the seed (stream "domainsid"). Windows draws
// the three sub-authorities at random when the domain is created; here they are stable per seed.
// Each is kept at or above 2^20 so the SID has the size real ones have.
func DomainSID(seed uint64) string {
	st := newStream(seed, StreamDomainSID)
	var sub [3]uint32
	for i := range sub {
		sub[i] = st.Uint32() | 1<<20
	}
	return fmt.Sprintf("S-1-5-21-%d-%d-%d", sub[0], sub[1], sub[2])
}

// GeneratePassword draws a password that satisfies AD's default complexity rules (three of:
// upper, lower, digit, symbol; length >= 7): here all four classes, 16 characters.
func GeneratePassword(st *Stream) string {
	const (
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower  = "abcdefghijkmnopqrstuvwxyz"
		digits = "23456789"
		symbol = "!#%+-.=@_"
		all    = upper + lower + digits + symbol
	)
	b := []byte{upper[st.IntN(len(upper))], lower[st.IntN(len(lower))], digits[st.IntN(len(digits))], symbol[st.IntN(len(symbol))]}
	for len(b) < 16 {
		b = append(b, all[st.IntN(len(all))])
	}
	st.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	return string(b)
}
