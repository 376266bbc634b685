package watchlist

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// docKeySize is the length of a key in the documents bucket:
// blind(state, number) || first bytes of blind(id).
const docKeySize = blindSize + idTagSize

// encodedDoc is a document alert ready to store.
type encodedDoc struct {
	key    [docKeySize]byte
	idKey  blindKey
	sealed []byte
	digest [32]byte
}

func (s *Store) encodeDocument(d *DocumentAlert) (encodedDoc, error) {
	var e encodedDoc
	state, number := NormalizeState(d.IssuingState), NormalizeNumber(d.Number)
	if d.ID == "" || state == "" || number == "" {
		return e, fmt.Errorf("%w: document %q needs id, issuing_state and number", ErrBadRecord, d.ID)
	}
	digest, err := RecordDigest(KindDocument, d.ID, d)
	if err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	e.digest = digest
	bk := s.blind.doc(state, number)
	e.idKey = s.blind.docID(d.ID)
	copy(e.key[:], bk[:])
	copy(e.key[blindSize:], e.idKey[:idTagSize])
	var buf [160]byte
	pt := encodeDoc(buf[:0], d)
	e.sealed = s.sealer.Seal(nil, pt, ad(subDocs, e.key[:]))
	clear(pt)
	return e, nil
}

// encodedPerson is a person alert ready to store.
type encodedPerson struct {
	key      blindKey
	sealed   []byte
	digest   [32]byte
	nameKeys [][nameKeySize]byte // name index keys (without the person suffix)
	tokens   []blindKey          // token-frequency counters to increment
	faces    []encodedFace
}

type encodedFace struct {
	key    [blindSize + 2]byte
	sealed []byte
	vec    []float32 // for the in-memory index; the caller must not keep it
}

// validatePerson checks what the store relies on; faceModel is the
// watchlist's face model (templates of any other model are refused).
func validatePerson(p *PersonAlert, faceModel string) error {
	if p.ID == "" || strings.TrimSpace(p.Name.Surname+p.Name.GivenNames) == "" && len(p.Name.MRZ) == 0 {
		return fmt.Errorf("%w: person %q needs an id and a name", ErrBadRecord, p.ID)
	}
	if err := validateFormat2(p); err != nil {
		return err
	}
	if len(p.Faces) > math.MaxUint16 {
		return fmt.Errorf("%w: person %q has too many face templates", ErrBadRecord, p.ID)
	}
	for i, f := range p.Faces {
		if f.ModelID != faceModel || faceModel == "" {
			return fmt.Errorf("%w: person %q template %d: model %q, watchlist model %q", ErrModelMismatch, p.ID, i, f.ModelID, faceModel)
		}
		if len(f.Vector) < vision.MinDim || len(f.Vector) > vision.MaxDim {
			return fmt.Errorf("%w: person %q template %d has %d dimensions, want %d to %d", ErrBadRecord, p.ID, i, len(f.Vector), vision.MinDim, vision.MaxDim)
		}
		for _, x := range f.Vector {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: person %q template %d has non-finite values", ErrBadRecord, p.ID, i)
			}
		}
	}
	return nil
}

func (s *Store) encodePerson(p *PersonAlert, faceModel string) (encodedPerson, error) {
	var e encodedPerson
	if err := validatePerson(p, faceModel); err != nil {
		return e, err
	}
	digest, err := RecordDigest(KindPerson, p.ID, p)
	if err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	e.digest = digest
	e.key = s.blind.person(p.ID)

	// Vectors are sealed apart so that open can load them without parsing
	// JSON; the person record keeps the templates' ids and models.
	stripped := *p
	stripped.Faces = make([]FaceTemplate, len(p.Faces))
	for i, f := range p.Faces {
		stripped.Faces[i] = FaceTemplate{ID: f.ID, ModelID: f.ModelID, Quality: f.Quality}
		var fe encodedFace
		copy(fe.key[:], e.key[:])
		binary.BigEndian.PutUint16(fe.key[blindSize:], uint16(i))
		vb := encodeVector(make([]byte, 0, 4*len(f.Vector)), f.Vector)
		fe.sealed = s.sealer.Seal(nil, vb, ad(subFaces, fe.key[:]))
		clear(vb)
		fe.vec = f.Vector
		e.faces = append(e.faces, fe)
	}
	js, err := json.Marshal(&stripped)
	if err != nil {
		return e, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	e.sealed = s.sealer.Seal(nil, js, ad(subPersons, e.key[:]))
	clear(js)

	keys, tokens := personIndexTerms(p)
	for _, k := range keys {
		e.nameKeys = append(e.nameKeys, s.blind.nameKey(k))
	}
	for _, t := range tokens {
		e.tokens = append(e.tokens, s.blind.token(t))
	}
	return e, nil
}

// personNames lists every name form of a person as match sees them: the
// listed name and aliases in original script and in each MRZ form, each
// marked with its kind (primary, alias, weak alias, original script) and
// the name as listed.
func personNames(p *PersonAlert) []match.FullName {
	var out []match.FullName
	seen := make(map[string]bool, 8)
	// A name and its MRZ form usually tokenise alike: score each spelling
	// once (the first, stronger kind wins).
	push := func(f match.FullName) {
		k := f.MRZ + "\x00" + f.Surname + "\x00" + strings.Join(f.GivenNames, " ")
		if f.Weak {
			k += "\x00w"
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	add := func(n Name, kind string) {
		listed := strings.TrimSpace(n.Surname)
		if g := strings.TrimSpace(n.GivenNames); g != "" {
			if listed != "" {
				listed += ", "
			}
			listed += g
		}
		if n.Script != "" {
			kind = match.NameKindOriginal
		}
		weak := n.Quality == QualityWeak
		if listed != "" && len(n.MRZ) == 0 {
			// The MRZ forms, when filled, are this name transliterated:
			// scoring them is enough.
			push(match.FullName{Surname: n.Surname, GivenNames: strings.Fields(n.GivenNames), Weak: weak, Kind: kind, Listed: listed})
		}
		for _, m := range n.MRZ {
			f := match.FullName{MRZ: m, Weak: weak, Kind: kind, Listed: listed}
			if f.Listed == "" {
				f.Listed = m
			}
			push(f)
		}
	}
	add(p.Name, match.NameKindPrimary)
	for _, a := range p.Aliases {
		add(a, match.NameKindAlias)
	}
	return out
}
