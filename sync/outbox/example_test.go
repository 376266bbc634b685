package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// The daemon stores a result durably, then acknowledges the transaction.
// An Uploader (not shown: outbox.NewUploader + Run) delivers it later.
func Example() {
	dir, _ := os.MkdirTemp("", "outbox-example")
	defer os.RemoveAll(dir)
	kek := filepath.Join(dir, "outbox.kek")
	seal.GenerateKeyFile(kek)

	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), seal.FileKey{Path: kek}, outbox.Options{
		UnitID:       "desk-07",
		RoutineQuota: outbox.Quota{Items: 100000},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ob.Close()

	e, err := ob.Enqueue(context.Background(), outbox.Item{
		Kind:     "result",
		Priority: outbox.Hit,
		Payload:  json.RawMessage(`{"decision":"HIT","list":"SLTD"}`),
	})
	if err != nil {
		fmt.Println("not stored, do not acknowledge:", err)
		return
	}
	st := ob.Status()
	fmt.Println(e.Seq, len(e.IdempotencyKey) > len("desk-07:"), st.Depth, st.Hits)
	// Output: 1 true 1 1
}
