package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RoomStateBucket keeps what a room's owner decided (lock, lobby, password,
// moderators, mutes, hands, chat), so that the node that takes the room
// over continues from it.
const RoomStateBucket = "parley_room_state"

// Store keeps small documents by key in a replicated key-value bucket;
// a document not written again within the bucket's TTL disappears.
type Store struct {
	kv jetstream.KeyValue
}

// OpenStore opens (or creates) a store bucket; see openBucket.
func (b *Bus) OpenStore(ctx context.Context, bucket string, ttl time.Duration, replicas int) (*Store, error) {
	kv, err := b.openBucket(ctx, bucket, ttl, replicas)
	if err != nil {
		return nil, fmt.Errorf("bus: open store %s: %w", bucket, err)
	}
	return &Store{kv: kv}, nil
}

// Put writes data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if _, err := s.kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("bus: store %s: %w", key, err)
	}
	return nil
}

// Get reads key; nil without an error when there is none.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: read %s: %w", key, err)
	}
	return e.Value(), nil
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: delete %s: %w", key, err)
	}
	return nil
}
