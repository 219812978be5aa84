package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matchd/matchd/ingest"
)

// Consumer is one member of a Kafka consumer group. It implements the
// ingest source interface: ReadBatch hands out batches of one partition
// each, and calling a batch's AckFunc with a nil error declares its records'
// alerts written, which lets the consumer commit the offset after it (once
// Config.Sync has made the writes durable).
//
// ReadBatch is called from one goroutine; Ready and Close from any.
type Consumer struct {
	cfg    Config
	group  *kafkago.ConsumerGroup
	dialer *kafkago.Dialer
	// fetchDialer opens the partition leaders' connections.
	fetchDialer *kafkago.Dialer
	// transport carries the consumer's metadata requests.
	transport *kafkago.Transport
	batches   chan *pending
	seq       uint64 // owned by ReadBatch

	stop      chan struct{} // closed by Close: ReadBatch and the group loop end
	abort     chan struct{} // closed when Close gives up waiting
	loopDone  chan struct{}
	closeOnce sync.Once
	ready     atomic.Bool
}

// pending is a fetched batch waiting to be handed out.
type pending struct {
	b         *ingest.Batch
	g         *generation
	topic     string
	partition int
	next      int64  // the offset after the batch's last message
	messages  int    // Kafka messages in the batch
	arena     []byte // the messages' values; the batch's lines alias it
	// after is the offset after the partition's previous batch: gate
	// waits for it to be committed.
	after int64
	abort <-chan struct{}
}

type topicPartition struct {
	topic     string
	partition int
}

// generation is the consumer's state for one group generation: which
// batches it handed out are not yet acknowledged, and the offsets written
// but not yet committed.
type generation struct {
	gen *kafkago.Generation

	mu          sync.Mutex
	closing     bool // no more batches are handed out
	outstanding int  // handed out, not yet acknowledged
	drained     chan struct{}
	acked       map[topicPartition]int64 // next offset whose predecessors are written
	committed   map[topicPartition]int64

	kick chan struct{} // an ack arrived: commit
	// committedCh is closed (and replaced) at every commit, waking the
	// batches waiting in gate; giveUp makes gate drop them instead.
	committedCh chan struct{}
	giveUp      bool
	// released tells each partition's fetcher that a commit moved its
	// offset (it may hand out its next batch).
	released map[topicPartition]chan struct{}
}

// NewConsumer validates cfg and joins the group in the background; batches
// arrive once a generation has assigned partitions to this member.
func NewConsumer(cfg Config) (*Consumer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := kafkago.FirstOffset
	if cfg.StartAtEnd {
		start = kafkago.LastOffset
	}
	dialer := cfg.Security.Dialer(10 * time.Second)
	group, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:                cfg.Group,
		Brokers:           cfg.Brokers,
		Dialer:            dialer,
		Topics:            cfg.Topics,
		HeartbeatInterval: cfg.HeartbeatInterval,
		SessionTimeout:    cfg.SessionTimeout,
		RebalanceTimeout:  cfg.RebalanceTimeout,
		JoinGroupBackoff:  cfg.RetryBackoff,
		StartOffset:       start,
		Timeout:           cfg.CommitTimeout,
		Logger:            logAdapter{cfg.Logger, slog.LevelDebug},
		ErrorLogger:       logAdapter{cfg.Logger, slog.LevelWarn},
	})
	if err != nil {
		return nil, err
	}
	c := &Consumer{
		cfg:         cfg,
		group:       group,
		dialer:      dialer,
		fetchDialer: fetchDialer(dialer),
		transport:   cfg.Security.Transport(),
		batches:     make(chan *pending, 4),
		stop:        make(chan struct{}),
		abort:       make(chan struct{}),
		loopDone:    make(chan struct{}),
	}
	go c.loop()
	return c, nil
}

// Ready reports whether the consumer has joined its group at least once.
func (c *Consumer) Ready() bool { return c.ready.Load() }

// ReadBatch returns the next fetched batch: consecutive messages of one
// partition, each message framed into lines (Origin Topic, Partition,
// Offset, and Line when the message holds several). It blocks until a
// batch is fetched or ctx is done, and returns ingest.ErrEndOfInput once
// Close has been called.
func (c *Consumer) ReadBatch(ctx context.Context) (*ingest.Batch, ingest.AckFunc, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-c.stop:
			return nil, nil, ingest.ErrEndOfInput
		case p := <-c.batches:
			g := p.g
			g.mu.Lock()
			if g.closing { // its generation ended: the next owner fetches it again
				g.mu.Unlock()
				continue
			}
			g.outstanding++
			g.mu.Unlock()
			c.seq++
			p.b.Seq = c.seq
			p.b.Gate = p.gate
			return p.b, p.ack, nil
		}
	}
}

// gate holds the batch's write until the partition's previous batch is
// committed, so that at most one batch per partition is written and not
// committed. It returns ingest.ErrNotWritten when the generation ends
// without that commit (the next owner delivers the batch again) or Close
// gives up.
func (p *pending) gate() error {
	g, tp := p.g, topicPartition{p.topic, p.partition}
	for {
		g.mu.Lock()
		ok, giveUp, ch := g.committed[tp] >= p.after, g.giveUp, g.committedCh
		g.mu.Unlock()
		switch {
		case ok:
			return nil
		case giveUp:
			return ingest.ErrNotWritten
		}
		select {
		case <-ch:
		case <-p.abort:
			return ingest.ErrNotWritten
		}
	}
}

// ack records that the batch's records are written (err == nil) or that
// they could not be (the offset then stays uncommitted).
func (p *pending) ack(err error) {
	g := p.g
	g.mu.Lock()
	if err == nil {
		tp := topicPartition{p.topic, p.partition}
		if p.next > g.acked[tp] {
			g.acked[tp] = p.next
		}
	}
	g.outstanding--
	if g.closing && g.outstanding == 0 {
		close(g.drained)
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// Close stops handing out batches and leaves the group: the current
// generation stops fetching, waits until every batch it handed out has been
// acknowledged, commits, and then the member leaves. Call it after the last
// batch was acknowledged (or will never be). When ctx ends first, Close
// stops waiting for acknowledgements, makes one last commit attempt of what
// was acknowledged, and returns ctx's error. No commit is made after Close
// returns.
func (c *Consumer) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		done := make(chan struct{})
		go func() {
			<-c.loopDone
			c.group.Close() // ends the generation, which commits, then leaves
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			close(c.abort)
			select {
			case <-done:
			case <-time.After(c.cfg.CommitTimeout + c.cfg.MaxWait):
			}
			err = ctx.Err()
		}
	})
	return err
}

// loop receives the group's generations until Close.
func (c *Consumer) loop() {
	defer close(c.loopDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.stop
		cancel()
	}()
	for fails := 0; ; {
		gen, err := c.group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				return
			}
			if errors.Is(err, kafkago.SASLAuthenticationFailed) {
				// Retried too: the credentials may be created on the
				// brokers later; but it needs an operator.
				c.cfg.Logger.Error("SASL authentication failed: check --sasl-mechanism, --sasl-username and the password; retrying", "group", c.cfg.Group, "err", err)
			} else {
				c.cfg.Logger.Warn("cannot join the consumer group, retrying", "group", c.cfg.Group, "err", err)
			}
			c.hookError("join", err)
			if !sleep(ctx, c.cfg.backoff(fails)) {
				return
			}
			fails++
			continue
		}
		fails = 0
		gen.Start(func(gctx context.Context) { c.runGeneration(gctx, gen) })
	}
}

// runGeneration fetches the generation's partitions and commits what is
// written until the generation ends; then it stops fetching, waits for the
// batches it handed out, and makes its final commit. The group does not
// rejoin before it returns.
func (c *Consumer) runGeneration(ctx context.Context, gen *kafkago.Generation) {
	g := &generation{
		gen:         gen,
		drained:     make(chan struct{}),
		acked:       map[topicPartition]int64{},
		committed:   map[topicPartition]int64{},
		kick:        make(chan struct{}, 1),
		released:    map[topicPartition]chan struct{}{},
		committedCh: make(chan struct{}),
	}
	c.ready.Store(true)
	log := c.cfg.Logger.With("group", c.cfg.Group, "generation", gen.ID)
	fctx, stopFetching := context.WithCancel(context.Background())
	var fetchers sync.WaitGroup
	for _, topic := range slices.Sorted(maps.Keys(gen.Assignments)) {
		parts := gen.Assignments[topic]
		ids := make([]int, len(parts))
		for i, pa := range parts {
			ids[i] = pa.ID
			tp := topicPartition{topic, pa.ID}
			f := &fetcher{
				c: c, g: g, tp: tp, dialer: c.fetchDialer, offset: pa.Offset,
				released: make(chan struct{}, 1),
				log:      log.With("topic", topic, "partition", pa.ID),
			}
			g.released[tp] = f.released
			fetchers.Add(1)
			go func() {
				defer fetchers.Done()
				f.run(fctx)
			}()
		}
		slices.Sort(ids)
		log.Info("partitions assigned", "topic", topic, "partitions", ids)
		if c.cfg.Hooks.Assigned != nil {
			c.cfg.Hooks.Assigned(gen.ID, topic, ids)
		}
	}

	changed := make(chan struct{})
	go c.watchPartitions(fctx, changed, log)

	var retry <-chan time.Time
	fails := 0
	commit := func() {
		if err := c.commit(g); err != nil {
			log.Warn("commit failed, retrying", "err", err)
			retry = time.After(c.cfg.backoff(fails))
			fails++
			return
		}
		retry, fails = nil, 0
	}
run:
	for {
		select {
		case <-ctx.Done():
			break run
		case <-g.kick:
			if retry == nil { // else the retry commits what is acknowledged by then
				commit()
			}
		case <-retry:
			commit()
		case <-changed:
			log.Info("the topics' partitions changed; rejoining the group")
			break run // returning ends the generation
		}
	}

	// The generation is over: stop fetching, forget the batches not handed
	// out yet (the next owner fetches them again), wait for the rest.
	stopFetching()
	fetchers.Wait()
	g.mu.Lock()
	g.closing = true
	if g.outstanding == 0 {
		close(g.drained)
	}
	g.mu.Unlock()
	for dropped := false; !dropped; {
		select {
		case <-c.batches:
		default:
			dropped = true
		}
	}
	// The batches handed out still need their predecessors' commits to be
	// written: keep committing until they are all acknowledged. If a
	// commit fails now, the rest are dropped unwritten (gate) and
	// delivered again by the partitions' next owner.
	drainCommit := func() {
		if err := c.commit(g); err != nil {
			log.Warn("commit failed as the generation ends; batches not yet written are dropped, their records delivered again", "err", err)
			g.mu.Lock()
			if !g.giveUp {
				g.giveUp = true
				close(g.committedCh)
				g.committedCh = make(chan struct{})
			}
			g.mu.Unlock()
		}
	}
	drainCommit()
	for waiting := true; waiting; {
		select {
		case <-g.drained:
			waiting = false
		case <-g.kick:
			drainCommit()
		case <-c.abort:
			log.Warn("stopped waiting for batches in flight; their records will be delivered again")
			waiting = false
		}
	}
	var err error
	for attempt := range 3 {
		if err = c.commit(g); err == nil {
			break
		}
		if attempt < 2 && !sleepCh(c.abort, c.cfg.backoff(attempt)) {
			break
		}
	}
	if err != nil {
		log.Warn("final commit failed; the partitions' next owner re-reads from the last committed offsets", "err", err)
	}
	for _, topic := range slices.Sorted(maps.Keys(gen.Assignments)) {
		var ids []int
		for _, pa := range gen.Assignments[topic] {
			ids = append(ids, pa.ID)
		}
		slices.Sort(ids)
		if c.cfg.Hooks.Revoked != nil {
			c.cfg.Hooks.Revoked(gen.ID, topic, ids)
		}
	}
	log.Info("generation ended")
}

// watchPartitions closes changed when a topic's partition count differs
// from the count it read first. kafka-go's own watcher ends the generation
// on any metadata error, which a topic that does not exist yet causes at
// every join.
func (c *Consumer) watchPartitions(ctx context.Context, changed chan<- struct{}, log *slog.Logger) {
	if c.cfg.PartitionWatch < 0 {
		return
	}
	cl := &kafkago.Client{Addr: kafkago.TCP(c.cfg.Brokers...), Timeout: c.cfg.CommitTimeout, Transport: c.transport}
	count := func() (map[string]int, bool) {
		md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: c.cfg.Topics})
		if err != nil {
			return nil, false
		}
		n := map[string]int{}
		for _, t := range md.Topics {
			if t.Error == nil {
				n[t.Name] = len(t.Partitions)
			}
		}
		return n, true
	}
	var first map[string]int
	for ok := false; !ok; {
		if first, ok = count(); !ok && !sleep(ctx, c.cfg.PartitionWatch) {
			return
		}
	}
	for sleep(ctx, c.cfg.PartitionWatch) {
		if now, ok := count(); ok && !maps.Equal(now, first) {
			log.Debug("partition counts changed", "before", first, "now", now)
			close(changed)
			return
		}
	}
}

// commit makes the acknowledged writes durable and commits their offsets
// with the generation. It is called from the generation's goroutine only.
func (c *Consumer) commit(g *generation) error {
	g.mu.Lock()
	offsets := map[string]map[int]int64{}
	n := 0
	for tp, off := range g.acked {
		if off > g.committed[tp] {
			if offsets[tp.topic] == nil {
				offsets[tp.topic] = map[int]int64{}
			}
			offsets[tp.topic][tp.partition] = off
			n++
		}
	}
	g.mu.Unlock()
	if n == 0 {
		return nil
	}
	if c.cfg.Sync != nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommitTimeout)
		err := c.cfg.Sync(ctx)
		cancel()
		if err != nil {
			c.hookError("sync", err)
			return fmt.Errorf("making written alerts durable: %w", err)
		}
	}
	start := time.Now()
	err := g.gen.CommitOffsets(offsets)
	if c.cfg.Hooks.Committed != nil {
		c.cfg.Hooks.Committed(time.Since(start), n, err)
	}
	if err != nil {
		return err
	}
	g.mu.Lock()
	for topic, parts := range offsets {
		for p, off := range parts {
			g.committed[topicPartition{topic, p}] = off
		}
	}
	close(g.committedCh)
	g.committedCh = make(chan struct{})
	g.mu.Unlock()
	for topic, parts := range offsets {
		for p := range parts {
			select {
			case g.released[topicPartition{topic, p}] <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

func (c *Consumer) hookError(op string, err error) {
	if c.cfg.Hooks.Error != nil {
		c.cfg.Hooks.Error(op, err)
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func sleepCh(stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// logAdapter routes kafka-go's printf logs to slog.
type logAdapter struct {
	l     *slog.Logger
	level slog.Level
}

func (a logAdapter) Printf(format string, args ...any) {
	if a.l.Enabled(context.Background(), a.level) {
		a.l.Log(context.Background(), a.level, "kafka-go: "+fmt.Sprintf(format, args...))
	}
}
