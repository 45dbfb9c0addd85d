package dev.checkprop.tier;

import dev.checkprop.plan.Tier;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * The one background thread that copies states between heap arrays and tier slots, in the order the
 * copies are asked for. {@link #write} and {@link #read} queue a copy and answer its sequence number at
 * once; {@link #await} waits until that copy (and every one before it: the queue is first-in
 * first-out) is done, and counts the time waited. So a plan that asks for a read early overlaps it with
 * the computation in between, and a slot freed by a discard and written again is never overwritten
 * before an earlier read of it has finished.
 *
 * <p>The queue is a ring of preallocated fields and the threads hand over by volatile counters and
 * {@link LockSupport}: nothing is allocated per copy. One compute thread submits and waits (the
 * executor's caller); it is not for several.
 *
 * <h2>NOTE [Visibility]</h2>
 * The compute thread fills an array, then publishes the request by a volatile write of
 * {@code submitted}; the I/O thread reads {@code submitted} before the array. The I/O thread fills an
 * array, then writes {@code completed}; the compute thread reads {@code completed} before it uses the
 * array. Each pair is a happens-before edge, so neither sees a half-copied state.
 */
public final class TierIo implements AutoCloseable {

    private static final int WRITE = 0;
    private static final int READ = 1;
    private static final Tier[] TIERS = Tier.values();
    private static final java.util.concurrent.atomic.AtomicInteger THREADS = new java.util.concurrent.atomic.AtomicInteger();

    private final TierSlots[] slots;
    private final int capacity;
    private final int[] kind;
    private final int[] tierOf;
    private final int[] slotOf;
    private final float[][] first;
    private final float[][] second;
    private final int[] length;
    private final long[] secondOffset;
    private final int[] layerOf;

    private volatile long submitted;
    private volatile long completed;
    private volatile TierException failure;
    private volatile boolean closing;
    private volatile Thread waiter;
    private final Thread thread;

    /** Per tier, written by the I/O thread, read after {@link #drain}. */
    private final long[] bytesWritten = new long[TIERS.length];
    private final long[] bytesRead = new long[TIERS.length];
    private long busyNanos;
    private long waitNanos;

    /**
     * Starts the I/O thread.
     *
     * @param slots    the slots of each tier, index {@link Tier#ordinal()} (null for a tier not used)
     * @param capacity the most copies queued at once (a run never queues more than its tier actions)
     */
    public TierIo(TierSlots[] slots, int capacity) {
        this.slots = slots.clone();
        this.capacity = Math.max(1, capacity);
        kind = new int[this.capacity];
        tierOf = new int[this.capacity];
        slotOf = new int[this.capacity];
        first = new float[this.capacity][];
        second = new float[this.capacity][];
        length = new int[this.capacity];
        secondOffset = new long[this.capacity];
        layerOf = new int[this.capacity];
        thread = new Thread(this::loop, "checkprop-tier-io-" + THREADS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues a copy of {@code len} floats of {@code a} (and of {@code r}, if not null, after them in the
     * slot) into slot {@code slot} of {@code tier}; answers its sequence number.
     *
     * @param layer the layer whose state it is, for messages
     * @throws TierException if an earlier copy failed
     */
    public long write(Tier tier, int slot, float[] a, float[] r, int len, int layer) {
        return submit(WRITE, tier, slot, a, r, len, layer);
    }

    /** Queues the copy back: slot {@code slot} of {@code tier} into {@code a} (and {@code r}); answers its sequence number. */
    public long read(Tier tier, int slot, float[] a, float[] r, int len, int layer) {
        return submit(READ, tier, slot, a, r, len, layer);
    }

    private long submit(int k, Tier tier, int slot, float[] a, float[] r, int len, int layer) {
        check();
        final long seq = submitted + 1;
        if (seq - completed > capacity) {
            await(seq - capacity); // never in a run of a checked plan: the ring holds all of its copies
        }
        final int i = (int) (seq % capacity);
        kind[i] = k;
        tierOf[i] = tier.ordinal();
        slotOf[i] = slot;
        first[i] = a;
        second[i] = r;
        length[i] = len;
        secondOffset[i] = len;
        layerOf[i] = layer;
        submitted = seq;
        LockSupport.unpark(thread);
        return seq;
    }

    /**
     * Waits until copy {@code seq} and all before it are done; counts the time in {@link #waitNanos()}.
     *
     * @throws TierException if a copy failed
     */
    public void await(long seq) {
        if (completed >= seq) {
            check();
            return;
        }
        final long t0 = System.nanoTime();
        waiter = Thread.currentThread();
        // A copy takes a millisecond or more: a short spin catches one about to end, then park.
        for (int spin = 0; completed < seq && failure == null; spin++) {
            if (spin < 200) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 1_000_000L);
            }
        }
        waiter = null;
        waitNanos += System.nanoTime() - t0;
        check();
    }

    /** Waits for every queued copy. */
    public void drain() {
        await(submitted);
    }

    private void check() {
        final TierException f = failure;
        if (f != null) {
            throw f;
        }
    }

    private void loop() {
        long done = 0;
        while (true) {
            while (submitted == done) {
                if (closing) {
                    return;
                }
                LockSupport.park(this);
            }
            final long seq = done + 1;
            final int i = (int) (seq % capacity);
            final long t0 = System.nanoTime();
            final TierSlots s = slots[tierOf[i]];
            try {
                if (kind[i] == WRITE) {
                    s.write(slotOf[i], 0, first[i], length[i]);
                    if (second[i] != null) {
                        s.write(slotOf[i], secondOffset[i], second[i], length[i]);
                    }
                    bytesWritten[tierOf[i]] += 4L * length[i] * (second[i] == null ? 1 : 2);
                } else {
                    s.read(slotOf[i], 0, first[i], length[i]);
                    if (second[i] != null) {
                        s.read(slotOf[i], secondOffset[i], second[i], length[i]);
                    }
                    bytesRead[tierOf[i]] += 4L * length[i] * (second[i] == null ? 1 : 2);
                }
            } catch (IOException | RuntimeException e) {
                final IOException io = e instanceof IOException x ? x : new IOException(e.toString(), e);
                failure = new TierException("could not " + (kind[i] == WRITE ? "write" : "read") + " the state of layer "
                        + layerOf[i] + " (" + 4L * length[i] * (second[i] == null ? 1 : 2) + " bytes) "
                        + (kind[i] == WRITE ? "to " : "from ") + TIERS[tierOf[i]].text() + " (" + s.where() + "): "
                        + (io.getMessage() == null ? io.getClass().getSimpleName() : io.getMessage()), io);
                LockSupport.unpark(waiter);
                return;
            }
            first[i] = null;
            second[i] = null;
            busyNanos += System.nanoTime() - t0;
            done = seq;
            completed = seq;
            final Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /** Answers the bytes written to {@code tier} since the last {@link #resetCounters}; call after {@link #drain}. */
    public long bytesWritten(Tier tier) {
        return bytesWritten[tier.ordinal()];
    }

    /** Answers the bytes read from {@code tier} since the last {@link #resetCounters}; call after {@link #drain}. */
    public long bytesRead(Tier tier) {
        return bytesRead[tier.ordinal()];
    }

    /** Answers the nanoseconds the compute thread waited in {@link #await} since the last reset. */
    public long waitNanos() {
        return waitNanos;
    }

    /** Answers the nanoseconds the I/O thread spent copying since the last reset; call after {@link #drain}. */
    public long busyNanos() {
        return busyNanos;
    }

    /** Zeroes the counters; only with no copy queued (after {@link #drain}). */
    public void resetCounters() {
        java.util.Arrays.fill(bytesWritten, 0);
        java.util.Arrays.fill(bytesRead, 0);
        busyNanos = 0;
        waitNanos = 0;
    }

    /** Answers the failure that stopped the I/O thread, or null. */
    public TierException failure() {
        return failure;
    }

    /** Lets queued copies finish (or fail), then stops the thread and waits for it. Idempotent. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
