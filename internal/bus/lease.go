package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrLeaseHeld means another owner holds the lease.
var ErrLeaseHeld = errors.New("bus: lease held by another owner")

// Leases hands out exclusive, expiring ownership of keys (rooms) through a
// JetStream key-value bucket: Create succeeds for one caller only, and a key
// not refreshed within the TTL disappears so that another node can take it.
type Leases struct {
	kv  jetstream.KeyValue
	ttl time.Duration
}

// Lease is one held key. Refresh it more often than the TTL.
type Lease struct {
	Key      string
	revision uint64
}

// OpenLeases opens a lease bucket whose keys live for ttl unless refreshed,
// creating it with replicas copies if it does not exist yet. An existing
// bucket is used as it is (an operator may have made it with more
// replicas); its own TTL then applies.
func (b *Bus) OpenLeases(ctx context.Context, bucket string, ttl time.Duration, replicas int) (*Leases, error) {
	kv, err := b.openBucket(ctx, bucket, ttl, replicas)
	if err != nil {
		return nil, fmt.Errorf("bus: open lease bucket %s: %w", bucket, err)
	}
	st, err := kv.Status(ctx)
	if err == nil && st.TTL() > 0 {
		ttl = st.TTL()
	}
	return &Leases{kv: kv, ttl: ttl}, nil
}

// openBucket opens a key-value bucket in memory whose keys live for ttl
// unless written again, creating it with replicas copies if it does not
// exist yet. An existing bucket is used as it is.
func (b *Bus) openBucket(ctx context.Context, bucket string, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := b.js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = b.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   bucket,
			TTL:      ttl,
			Storage:  jetstream.MemoryStorage,
			History:  1,
			Replicas: max(replicas, 1),
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.js.KeyValue(ctx, bucket) // another node made it meanwhile
		}
	}
	return kv, err
}

// TTL is how long a lease lives without a refresh.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Acquire takes key for owner if nobody holds it.
func (l *Leases) Acquire(ctx context.Context, key, owner string) (*Lease, error) {
	rev, err := l.kv.Create(ctx, key, []byte(owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrLeaseHeld
	}
	if err != nil {
		return nil, fmt.Errorf("bus: acquire lease %s: %w", key, err)
	}
	return &Lease{Key: key, revision: rev}, nil
}

// Refresh extends a held lease. It fails with ErrLeaseHeld if the lease was
// lost (expired and taken by someone else).
func (l *Leases) Refresh(ctx context.Context, lease *Lease, owner string) error {
	rev, err := l.kv.Update(ctx, lease.Key, []byte(owner), lease.revision)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return ErrLeaseHeld
		}
		return fmt.Errorf("bus: refresh lease %s: %w", lease.Key, err)
	}
	lease.revision = rev
	return nil
}

// Release gives a held lease up.
func (l *Leases) Release(ctx context.Context, lease *Lease) error {
	err := l.kv.Delete(ctx, lease.Key, jetstream.LastRevision(lease.revision))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: release lease %s: %w", lease.Key, err)
	}
	return nil
}

// Owner returns who holds key, or "" if nobody does.
func (l *Leases) Owner(ctx context.Context, key string) (string, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bus: read lease %s: %w", key, err)
	}
	return string(e.Value()), nil
}
