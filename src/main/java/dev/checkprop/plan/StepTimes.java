package dev.checkprop.plan;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Locale;

/**
 * A {@link StepTimeModel} on one {@link Chain}: every time a plan's step can take, in whole
 * nanoseconds per layer, and {@link #predict}, the simulator that defines what a plan is predicted to
 * take. Immutable.
 *
 * <h2>The times</h2>
 * f(l) = max(1, round(cost(l) &middot; s &middot; 10<sup>9</sup>)) for {@code F l} (s the model's seconds per
 * cost unit), g(l) = round(f(l) &middot; backwardRatio) for {@code B l}, and for each tier t the write and
 * read of a<sup>l</sup>'s copy: latency + &lceil;bytes &middot; 10<sup>9</sup> / bandwidth&rceil;. Rounded
 * once here; every sum and comparison after this is exact integer arithmetic, so two plans' predicted
 * times are equal or not, never "equal up to rounding". {@code LOSS}, {@code D} and {@code X} take no time.
 *
 * <h2>The prediction</h2>
 * Two threads run the plan: the compute thread takes the actions in plan order; one I/O thread takes
 * the transfers ({@code W}, {@code R}) in plan order, one at a time, each starting when it is issued
 * (when the compute thread reaches it) and the previous transfer has finished. The compute thread
 * waits only where the plan needs a transfer finished:
 * <ul>
 * <li>an action that uses a<sup>l</sup> ({@code F l+1}, {@code B l}, {@code B l+1}, {@code LOSS} for
 *     l = L, {@code D l}) after {@code R l} starts no earlier than that read ends;</li>
 * <li>{@code D l} and {@code B l} after {@code W l} start no earlier than that write ends (its buffer is
 *     being copied; a backward step may overwrite it in place).</li>
 * </ul>
 * The step ends when both threads are done. So transfer time is hidden when the compute thread does
 * not reach its waiting point before the transfer ends: a write behind the forward evaluations that
 * follow it, a read issued early (a prefetch) behind the computation before the read's first use. The
 * model assumes a transfer does not slow the computation down (it runs on its own thread; with few
 * cores and memory-bound layers, it may).
 */
public final class StepTimes {

    private static final BigInteger NANOS_PER_SECOND = BigInteger.valueOf(1_000_000_000L);
    private static final Tier[] TIERS = Tier.values();

    private final int layers;
    private final long[] heapBytes;     // 1-based
    private final long[] transferBytes; // 1-based
    private final long[] forward;       // 1-based
    private final long[] backward;      // 1-based
    private final long[][] write;       // [tier][l], null for a tier the model lacks
    private final long[][] read;
    private final long[] capacity;      // per tier, -1 for a tier the model lacks
    private final StepTimeModel model;

    StepTimes(Chain chain, long[] transferBytes, StepTimeModel model) {
        final int L = chain.layers();
        if (transferBytes.length != L) {
            throw new IllegalArgumentException("step times: " + transferBytes.length + " transfer sizes for " + L + " layers");
        }
        this.layers = L;
        this.model = model;
        this.heapBytes = chain.bytesArray();
        this.transferBytes = new long[L + 1];
        this.forward = new long[L + 1];
        this.backward = new long[L + 1];
        for (int l = 1; l <= L; l++) {
            if (transferBytes[l - 1] < 1) {
                throw new IllegalArgumentException("step times: the tier copy of a" + l + " must have at least 1 byte, got "
                        + transferBytes[l - 1]);
            }
            this.transferBytes[l] = transferBytes[l - 1];
            forward[l] = Math.max(1, Math.round(chain.cost(l) * model.secondsPerCostUnit() * 1e9));
            backward[l] = Math.round(forward[l] * model.backwardRatio());
        }
        this.write = new long[TIERS.length][];
        this.read = new long[TIERS.length][];
        this.capacity = new long[TIERS.length];
        Arrays.fill(capacity, -1);
        for (Tier t : TIERS) {
            final TierCosts c = model.tiers().get(t);
            if (c == null) {
                continue;
            }
            capacity[t.ordinal()] = c.capacityBytes();
            write[t.ordinal()] = new long[L + 1];
            read[t.ordinal()] = new long[L + 1];
            for (int l = 1; l <= L; l++) {
                write[t.ordinal()][l] = transfer(this.transferBytes[l], c.writeBytesPerSecond(), c.latencyNanos());
                read[t.ordinal()][l] = transfer(this.transferBytes[l], c.readBytesPerSecond(), c.latencyNanos());
            }
        }
    }

    private static long transfer(long bytes, long bytesPerSecond, long latency) {
        final BigInteger[] qr = BigInteger.valueOf(bytes).multiply(NANOS_PER_SECOND)
                .divideAndRemainder(BigInteger.valueOf(bytesPerSecond));
        final BigInteger t = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
        return Math.addExact(t.longValueExact(), latency);
    }

    /** Answers L. */
    public int layers() {
        return layers;
    }

    /** Answers the model these times come from. */
    public StepTimeModel model() {
        return model;
    }

    /** Answers f(l), the nanoseconds of {@code F l}. */
    public long forwardNanos(int l) {
        return forward[check(l)];
    }

    /** Answers g(l), the nanoseconds of {@code B l}. */
    public long backwardNanos(int l) {
        return backward[check(l)];
    }

    /** Answers the bytes of the tier copy of a<sup>l</sup>. */
    public long transferBytes(int l) {
        return transferBytes[check(l)];
    }

    /** Whether the model has {@code tier}. */
    public boolean has(Tier tier) {
        return write[tier.ordinal()] != null;
    }

    /** Answers the nanoseconds of {@code W l@tier}. */
    public long writeNanos(Tier tier, int l) {
        return tierTable(write, tier)[check(l)];
    }

    /** Answers the nanoseconds of {@code R l} from {@code tier}. */
    public long readNanos(Tier tier, int l) {
        return tierTable(read, tier)[check(l)];
    }

    /** Answers the capacity of {@code tier} in bytes. */
    public long capacityBytes(Tier tier) {
        tierTable(write, tier);
        return capacity[tier.ordinal()];
    }

    /** Answers f(l) for l = 0..L (index 0 unused): for the planner, not to be written. */
    long[] forwardArray() {
        return forward;
    }

    long[] backwardArray() {
        return backward;
    }

    long[] transferArray() {
        return transferBytes;
    }

    private long[] tierTable(long[][] table, Tier tier) {
        final long[] t = table[tier.ordinal()];
        if (t == null) {
            throw new IllegalArgumentException("the model has no tier " + tier.text());
        }
        return t;
    }

    private int check(int l) {
        if (l < 1 || l > layers) {
            throw new IndexOutOfBoundsException("layer " + l + " outside 1.." + layers);
        }
        return l;
    }

    /**
     * What a plan is predicted to take, and what it moves.
     *
     * @param totalNanos   the step: when both threads are done
     * @param computeNanos the compute thread's work: &Sigma; f over the forwards and g over the backward steps
     * @param waitNanos    the compute thread's waits for transfers (total = compute + wait, or the
     *                     I/O thread's end if that is later)
     * @param ioNanos      the I/O thread's work: &Sigma; of the transfer times
     * @param written      bytes written per tier, indexed by {@link Tier#ordinal()}
     * @param read         bytes read per tier
     * @param peakHeld     the most bytes of tier copies held at once per tier, counted in plan order
     */
    public record Prediction(long totalNanos, long computeNanos, long waitNanos, long ioNanos, long[] written,
                             long[] read, long[] peakHeld) {

        /** Answers the bytes written to {@code tier}. */
        public long written(Tier tier) {
            return written[tier.ordinal()];
        }

        /** Answers the bytes read from {@code tier}. */
        public long read(Tier tier) {
            return read[tier.ordinal()];
        }

        /** Answers the most bytes of copies {@code tier} held at once. */
        public long peakHeld(Tier tier) {
            return peakHeld[tier.ordinal()];
        }

        @Override
        public String toString() {
            final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "predicted %.3f ms (compute %.3f ms, waiting %.3f ms, I/O busy %.3f ms)",
                    totalNanos / 1e6, computeNanos / 1e6, waitNanos / 1e6, ioNanos / 1e6));
            for (Tier t : TIERS) {
                if (written[t.ordinal()] > 0 || read[t.ordinal()] > 0) {
                    sb.append(String.format(Locale.ROOT, "; %s: %s written, %s read, peak %s held", t.text(),
                            Planners.humanBytes(written[t.ordinal()]), Planners.humanBytes(read[t.ordinal()]),
                            Planners.humanBytes(peakHeld[t.ordinal()])));
                }
            }
            return sb.toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Prediction p && p.totalNanos == totalNanos && p.computeNanos == computeNanos
                    && p.waitNanos == waitNanos && p.ioNanos == ioNanos && Arrays.equals(p.written, written)
                    && Arrays.equals(p.read, read) && Arrays.equals(p.peakHeld, peakHeld);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(totalNanos) * 31 + Arrays.hashCode(written);
        }
    }

    /**
     * Answers the predicted step of {@code plan} (see the class documentation): any valid plan, with
     * or without tier actions.
     *
     * @throws IllegalArgumentException if the plan's length differs, or it uses a tier the model lacks
     */
    public Prediction predict(Plan plan) {
        if (plan.layers() != layers) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers() + " layers, the times for "
                    + layers);
        }
        final int L = layers;
        final long[] ready = new long[L + 1];     // when a^l's heap buffer holds it (a read's end)
        final long[] written = new long[L + 1];   // when the write of a^l's copy ends (0: none pending)
        final Tier[] copy = new Tier[L + 1];
        final long[] out = new long[TIERS.length];
        final long[] in = new long[TIERS.length];
        final long[] held = new long[TIERS.length];
        final long[] peak = new long[TIERS.length];
        long clock = 0;   // the compute thread
        long io = 0;      // when the I/O thread is next free
        long work = 0;
        long ioWork = 0;
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    clock = Math.max(clock, ready[l - 1]) + forward[l];
                    work += forward[l];
                    ready[l] = clock;
                }
                case BACKWARD -> {
                    // B l may overwrite a^l's buffer in place: a pending write of it must end first.
                    clock = Math.max(Math.max(clock, written[l]), Math.max(ready[l], ready[l - 1])) + backward[l];
                    work += backward[l];
                }
                case LOSS -> clock = Math.max(clock, ready[L]);
                case DROP -> {
                    clock = Math.max(clock, Math.max(ready[l], written[l]));
                    written[l] = 0;
                }
                case WRITE -> {
                    final Tier t = plan.tier(i);
                    final long d = tierTable(write, t)[l];
                    // Queued behind any read of a^l, so it needs no wait of the compute thread.
                    io = Math.max(io, clock) + d;
                    ioWork += d;
                    written[l] = io;
                    copy[l] = t;
                    out[t.ordinal()] += transferBytes[l];
                    held[t.ordinal()] += transferBytes[l];
                    peak[t.ordinal()] = Math.max(peak[t.ordinal()], held[t.ordinal()]);
                }
                case READ -> {
                    final Tier t = copy[l];
                    final long d = tierTable(read, t)[l];
                    io = Math.max(io, clock) + d;
                    ioWork += d;
                    ready[l] = io;
                    in[t.ordinal()] += transferBytes[l];
                }
                case DISCARD -> {
                    held[copy[l].ordinal()] -= transferBytes[l];
                    copy[l] = null;
                }
            }
        }
        final long total = Math.max(clock, io);
        return new Prediction(total, work, clock - work, ioWork, out, in, peak);
    }
}
