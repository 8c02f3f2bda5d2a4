package tasklog

import (
	"sync"
	"time"
)

// periodicSlots is how many buckets a period is cut into, at most: a
// bucket is never shorter than a millisecond, about what the runtime's
// timers resolve.
const periodicSlots = 64

// periodic schedules the Periodic records of one server's tasks: one
// goroutine and one ticker for all of them, instead of a timer and a
// goroutine per task per record. The period is cut into periodicSlots
// buckets; each tick (period/periodicSlots) writes the records of one
// bucket. A new task joins one of the buckets up to a quarter period
// behind the current one, in turn, so its first record comes between
// three quarters of a period and a period after it started, and even a
// burst of tasks started at once spreads over a quarter of the buckets:
// there is no thundering herd. The goroutine runs only while tasks are
// open.
type periodic struct {
	period time.Duration

	mu      sync.Mutex
	slots   [][]*Task
	cur     int
	n       int
	stop    chan struct{} // non-nil while the goroutine runs
	batch   []*Task       // the goroutine's own
	tickFor time.Duration
	turn    int // spreads new tasks over the buckets behind cur
}

func newPeriodic(period time.Duration) *periodic {
	n := int(min(periodicSlots, max(1, period/time.Millisecond)))
	return &periodic{period: period, slots: make([][]*Task, n), tickFor: period / time.Duration(n)}
}

// add schedules t. t.wmu is held by the caller (NewTask), not t.mu.
func (p *periodic) add(t *Task) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.slots)
	spread := max(1, n/4)
	p.turn++
	s := (p.cur + n - 1 - p.turn%spread) % n
	t.slot, t.slotIdx = s, len(p.slots[s])
	p.slots[s] = append(p.slots[s], t)
	p.n++
	if p.stop == nil {
		p.stop = make(chan struct{})
		go p.run(p.stop)
	}
}

// remove unschedules t, if it is scheduled: two moves in its bucket.
func (p *periodic) remove(t *Task) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.slot < 0 {
		return
	}
	b := p.slots[t.slot]
	last := b[len(b)-1]
	b[t.slotIdx], last.slotIdx = last, t.slotIdx
	b[len(b)-1] = nil
	p.slots[t.slot] = b[:len(b)-1]
	t.slot = -1
	p.n--
	if p.n == 0 && p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

func (p *periodic) run(stop chan struct{}) {
	ticker := time.NewTicker(p.tickFor)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		p.mu.Lock()
		p.cur = (p.cur + 1) % len(p.slots)
		batch := append(p.batch[:0], p.slots[p.cur]...)
		p.mu.Unlock()
		for i, t := range batch {
			t.tick()
			batch[i] = nil
		}
		p.mu.Lock()
		p.batch = batch[:0]
		p.mu.Unlock()
	}
}
