package watchlist

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// deltaTx is a delta being applied inside one write transaction.
type deltaTx struct {
	s           *Store
	g           *bolt.Bucket
	faceModel   string
	hash        StateHash
	meta        Meta
	facesChange bool
}

func (d *deltaTx) bucket(sub []byte) *bolt.Bucket { return d.g.Bucket(sub) }

// removeDocument deletes the alert with id; found is false when absent.
func (d *deltaTx) removeDocument(id string) (found bool, err error) {
	idKey := d.s.blind.docID(id)
	ids := d.bucket(subDocIDs)
	dkey := bytes.Clone(ids.Get(idKey[:]))
	if dkey == nil {
		return false, nil
	}
	docs := d.bucket(subDocs)
	alert, err := d.s.openDocument(dkey, docs.Get(dkey))
	if err != nil {
		return true, err
	}
	digest, err := RecordDigest(KindDocument, alert.ID, &alert)
	if err != nil {
		return true, err
	}
	d.hash.Sub(digest)
	d.meta.Documents--
	if err := docs.Delete(dkey); err != nil {
		return true, err
	}
	return true, ids.Delete(idKey[:])
}

func (d *deltaTx) putDocument(a *DocumentAlert) error {
	if _, err := d.removeDocument(a.ID); err != nil {
		return err
	}
	e, err := d.s.encodeDocument(a)
	if err != nil {
		return err
	}
	d.hash.Add(e.digest)
	d.meta.Documents++
	if err := d.bucket(subDocs).Put(e.key[:], e.sealed); err != nil {
		return err
	}
	return d.bucket(subDocIDs).Put(e.idKey[:], e.key[:])
}

// removePerson deletes a person, its templates, name index entries and
// token counts.
func (d *deltaTx) removePerson(id string) (found bool, err error) {
	pkey := d.s.blind.person(id)
	persons := d.bucket(subPersons)
	v := persons.Get(pkey[:])
	if v == nil {
		return false, nil
	}
	p, err := d.s.openPerson(d.g, pkey, v, true)
	if err != nil {
		return true, err
	}
	digest, err := RecordDigest(KindPerson, p.ID, p)
	if err != nil {
		return true, err
	}
	d.hash.Sub(digest)
	d.meta.Persons--
	keys, tokens := personIndexTerms(p)
	idx := d.bucket(subNameIdx)
	nks := make([][nameKeySize]byte, len(keys))
	for i, k := range keys {
		nks[i] = d.s.blind.nameKey(k)
		if err := idx.Delete(append(nks[i][:], pkey[:]...)); err != nil {
			return true, err
		}
	}
	if err := d.addKeyCounts(nks, -1); err != nil {
		return true, err
	}
	if err := d.addTokens(tokensOf(d.s, tokens), -1); err != nil {
		return true, err
	}
	faces := d.bucket(subFaces)
	c := faces.Cursor()
	var fkeys [][]byte
	for k, _ := c.Seek(pkey[:]); k != nil && bytes.HasPrefix(k, pkey[:]); k, _ = c.Next() {
		fkeys = append(fkeys, bytes.Clone(k))
	}
	for _, k := range fkeys {
		if err := faces.Delete(k); err != nil {
			return true, err
		}
		d.meta.Faces--
		d.facesChange = true
	}
	return true, persons.Delete(pkey[:])
}

func tokensOf(s *Store, tokens []string) []blindKey {
	out := make([]blindKey, len(tokens))
	for i, t := range tokens {
		out[i] = s.blind.token(t)
	}
	return out
}

func (d *deltaTx) addTokens(tokens []blindKey, delta int64) error {
	keys := make([][]byte, len(tokens))
	for i := range tokens {
		keys[i] = tokens[i][:]
	}
	return addCounts(d.bucket(subTokenFrq), keys, delta)
}

func (d *deltaTx) addKeyCounts(nks [][nameKeySize]byte, delta int64) error {
	keys := make([][]byte, len(nks))
	for i := range nks {
		keys[i] = nks[i][:]
	}
	return addCounts(d.bucket(subKeyCount), keys, delta)
}

// addCounts adjusts uint32 counters, deleting those that reach zero.
func addCounts(tf *bolt.Bucket, keys [][]byte, delta int64) error {
	for _, t := range keys {
		var n int64
		if v := tf.Get(t); len(v) == 4 {
			n = int64(binary.BigEndian.Uint32(v))
		}
		n += delta
		if n <= 0 {
			if err := tf.Delete(t); err != nil {
				return err
			}
			continue
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(n))
		if err := tf.Put(t, b[:]); err != nil {
			return err
		}
	}
	return nil
}

func (d *deltaTx) putPerson(p *PersonAlert) error {
	if _, err := d.removePerson(p.ID); err != nil {
		return err
	}
	e, err := d.s.encodePerson(p, d.faceModel)
	if err != nil {
		return err
	}
	d.hash.Add(e.digest)
	d.meta.Persons++
	if err := d.bucket(subPersons).Put(e.key[:], e.sealed); err != nil {
		return err
	}
	idx := d.bucket(subNameIdx)
	for _, nk := range e.nameKeys {
		if err := idx.Put(append(nk[:], e.key[:]...), nil); err != nil {
			return err
		}
	}
	if err := d.addKeyCounts(e.nameKeys, 1); err != nil {
		return err
	}
	if err := d.addTokens(e.tokens, 1); err != nil {
		return err
	}
	for _, f := range e.faces {
		if err := d.bucket(subFaces).Put(f.key[:], f.sealed); err != nil {
			return err
		}
		d.meta.Faces++
		d.facesChange = true
	}
	return nil
}

// ApplyDelta applies changes to the installed version in one transaction.
// baseSeq must be the installed sequence (ErrBaseMismatch) and
// meta.Sequence newer (ErrNotNewer). When meta.StateHash is set, the
// resulting record set must hash to it (ErrStateMismatch); on any error
// nothing changes. Deleting an id that is not installed is ErrBadRecord:
// it means the delta was built on another base.
func (s *Store) ApplyDelta(ctx context.Context, meta Meta, baseSeq uint64, src ChangeSource) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("watchlist: store opened read-only")
	}
	t0 := time.Now()
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	if err := checkDelta(cur, meta, baseSeq); err != nil {
		return err
	}
	if baseSeq != cur.meta.Sequence {
		return fmt.Errorf("%w: delta base %d, installed %d", ErrBaseMismatch, baseSeq, cur.meta.Sequence)
	}
	if meta.Sequence <= cur.meta.Sequence {
		return fmt.Errorf("%w: sequence %d, installed %d", ErrNotNewer, meta.Sequence, cur.meta.Sequence)
	}
	if cur.gen != 0 && cur.meta.FaceModelID != "" && meta.FaceModelID != cur.meta.FaceModelID && cur.meta.Faces > 0 {
		return fmt.Errorf("%w: delta for model %q on a watchlist of %q (needs a full snapshot)", ErrModelMismatch, meta.FaceModelID, cur.meta.FaceModelID)
	}
	gen := cur.gen
	if gen == 0 {
		gen = 1
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("watchlist: delta: %w", err)
	}
	defer tx.Rollback()
	g, err := tx.CreateBucketIfNotExists(genName(gen))
	if err != nil {
		return fmt.Errorf("watchlist: delta: %w", err)
	}
	for _, sub := range subBuckets {
		if _, err := g.CreateBucketIfNotExists(sub); err != nil {
			return fmt.Errorf("watchlist: delta: %w", err)
		}
	}
	d := &deltaTx{s: s, g: g, faceModel: meta.FaceModelID, meta: cur.meta}
	if cur.meta.StateHash != "" {
		if d.hash, err = ParseStateHash(cur.meta.StateHash); err != nil {
			return fmt.Errorf("%w: installed state hash", ErrCorrupt)
		}
	}
	var n int64
	for {
		c, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("watchlist: read change %d: %w", n+1, err)
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("change %d: %w", n+1, err)
		}
		switch {
		case c.Op == OpPut && c.Kind == KindDocument:
			err = d.putDocument(c.Document)
		case c.Op == OpPut && c.Kind == KindPerson:
			err = d.putPerson(c.Person)
		case c.Kind == KindDocument:
			var found bool
			if found, err = d.removeDocument(c.ID); err == nil && !found {
				err = fmt.Errorf("%w: delete of a document not installed", ErrBadRecord)
			}
		default:
			var found bool
			if found, err = d.removePerson(c.ID); err == nil && !found {
				err = fmt.Errorf("%w: delete of a person not installed", ErrBadRecord)
			}
		}
		if err != nil {
			return fmt.Errorf("change %d: %w", n+1, err)
		}
		n++
		if n%10000 == 0 {
			if err := checkCtx(ctx); err != nil {
				return err
			}
			if s.opts.Progress != nil {
				s.opts.Progress(n)
			}
		}
	}
	got := d.hash.String()
	if meta.StateHash != "" && meta.StateHash != got {
		return fmt.Errorf("%w: delta results in %s, announced %s", ErrStateMismatch, got, meta.StateHash)
	}
	meta.Documents, meta.Persons, meta.Faces = d.meta.Documents, d.meta.Persons, d.meta.Faces
	meta.StateHash = got
	meta.InstalledAt = time.Now().UTC()
	if err := s.writeMeta(g, gen, meta); err != nil {
		return fmt.Errorf("watchlist: delta: %w", err)
	}
	var gb [8]byte
	binary.BigEndian.PutUint64(gb[:], gen)
	if err := tx.Bucket(bucketStore).Put(keyCurrent, gb[:]); err != nil {
		return fmt.Errorf("watchlist: delta: %w", err)
	}
	sn := &snapshot{gen: gen, meta: meta}
	if d.facesChange || meta.FaceModelID != cur.meta.FaceModelID {
		// Built from the transaction's own view: the index matches exactly
		// what is about to be committed.
		if sn.faces, sn.faceRefs, err = s.buildFaceIndex(g, meta.FaceModelID, int(meta.Faces)); err != nil {
			return err
		}
	} else {
		sn.faces, sn.faceRefs = cur.faces, cur.faceRefs
		cur.keepFaces.Store(true)
	}
	if err := s.install(tx, sn); err != nil {
		if sn.faces != cur.faces && sn.faces != nil {
			sn.faces.Close()
		}
		cur.keepFaces.Store(false)
		return err
	}
	s.log.Info("watchlist: delta applied", "sequence", meta.Sequence, "base", baseSeq, "changes", n, "took", time.Since(t0))
	return nil
}

// openDocument authenticates and decodes a stored document alert.
func (s *Store) openDocument(key, sealed []byte) (DocumentAlert, error) {
	var buf [160]byte
	pt, err := s.sealer.Open(buf[:0], sealed, ad(subDocs, key))
	if err != nil {
		ie := &IntegrityError{Bucket: "documents", Key: fmt.Sprintf("%x", key), Err: err}
		s.reportIntegrity(ie)
		return DocumentAlert{}, ie
	}
	d, err := decodeDoc(pt)
	clear(pt)
	return d, err
}

// openPerson authenticates and decodes a stored person; withFaces
// re-attaches the template vectors (for digests).
func (s *Store) openPerson(g *bolt.Bucket, pkey blindKey, sealed []byte, withFaces bool) (*PersonAlert, error) {
	pt, err := s.sealer.Open(nil, sealed, ad(subPersons, pkey[:]))
	if err != nil {
		ie := &IntegrityError{Bucket: "persons", Key: fmt.Sprintf("%x", pkey[:]), Err: err}
		s.reportIntegrity(ie)
		return nil, ie
	}
	var p PersonAlert
	err = json.Unmarshal(pt, &p)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: person: %v", ErrCorrupt, err)
	}
	if withFaces && len(p.Faces) > 0 {
		fb := g.Bucket(subFaces)
		for i := range p.Faces {
			var fk [blindSize + 2]byte
			copy(fk[:], pkey[:])
			binary.BigEndian.PutUint16(fk[blindSize:], uint16(i))
			v := fb.Get(fk[:])
			if v == nil {
				return nil, fmt.Errorf("%w: person template missing", ErrCorrupt)
			}
			vb, err := s.sealer.Open(nil, v, ad(subFaces, fk[:]))
			if err != nil {
				ie := &IntegrityError{Bucket: "faces", Key: fmt.Sprintf("%x", fk[:]), Err: err}
				s.reportIntegrity(ie)
				return nil, ie
			}
			if p.Faces[i].Vector, err = decodeVector(vb); err != nil {
				return nil, err
			}
		}
	}
	return &p, nil
}
