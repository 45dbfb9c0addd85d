package dev.checkprop.select;

import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.FullStoragePlanner;
import dev.checkprop.plan.StepTimeModel;
import dev.checkprop.plan.Tier;
import dev.checkprop.plan.TierCosts;
import dev.checkprop.tier.DirectMemory;
import dev.checkprop.tier.DiskSlots;
import dev.checkprop.tier.OffHeapSlots;
import dev.checkprop.tier.SpillDirectory;
import dev.checkprop.tier.TierIo;
import dev.checkprop.tier.TierSlots;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Measures the {@link StepTimeModel} that {@code tiered:} and {@code auto} plan with, once per JVM
 * and shape: the executor's seconds per cost unit and backward ratio, and each tier's write and read
 * bandwidth, latency and free capacity. The planners stay pure: this is where the machine is asked.
 *
 * <h2>How, in a few hundred milliseconds</h2>
 * <ul>
 * <li><b>Compute</b>: the three consecutive layers of the network with the largest forward cost, as a
 *     network of their own, run by an {@link Executor} with the real batch size and thread count under
 *     full storage, on zeros, until the fastest forward and backward have not improved by 2% for ten
 *     steps in a row (at most 3 s: the JIT takes tens of steps to compile small layers fully); the
 *     fastest forward's nanoseconds over its cost units in the network's chain, and the fastest
 *     backward over the fastest forward.</li>
 * <li><b>Tiers</b>, through the executor's own store (the tier package's slots and {@code TierIo}, so
 *     the hand-off to the I/O thread is included): a state of the network's largest size (at most 64 MiB
 *     and an eighth of the free heap) written and read back four times, each waited for, and a 4 KiB one
 *     for the latency; bandwidth = bytes / (best time &minus; latency). Disk is a spill file in
 *     {@code -Dcheckprop.spill.dir} (else {@code java.io.tmpdir}), which after the first pass is the page
 *     cache, as it is for the executor's reads of recent writes.</li>
 * <li><b>Capacity</b>: off-heap, the free direct memory ({@code -XX:MaxDirectMemorySize}, by default the
 *     heap's maximum, less what direct buffers use) less 10%; disk, the spill directory's usable space
 *     less 10%.</li>
 * </ul>
 * Any figure can be given instead with {@code -Dcheckprop.speeds=KEY=VALUE,...} ({@link #parse}); given
 * figures are used as they are and the rest measured. {@code -Dcheckprop.tiers=false} leaves the tiers
 * out of {@code auto} (a tiered plan string still gets its tiers).
 */
public final class TierProbe {

    /** The system property with given speeds ({@link #parse}). */
    public static final String SPEEDS_PROPERTY = "checkprop.speeds";
    /** The system property that keeps {@code auto} to heap-only plans. */
    public static final String TIERS_PROPERTY = "checkprop.tiers";
    /** The system property naming the spill directory measured for disk. */
    public static final String SPILL_PROPERTY = "checkprop.spill.dir";

    private static final Map<String, double[]> COMPUTE = new ConcurrentHashMap<>();
    private static final Map<String, TierCosts> TIERS = new ConcurrentHashMap<>(); // "offheap", "disk:DIR"
    private static final long MAX_PROBE_BYTES = 64L << 20;
    private static final int SMALL_FLOATS = 1024;
    /** Compute: steps in a row without a 2% faster forward or backward that end the measurement. */
    private static final int STABLE_STEPS = 10;
    /** Compute: the most steps and time the measurement may take (beyond the executor's warm-up). */
    private static final int MAX_PROBE_STEPS = 400;
    private static final long MAX_PROBE_NANOS = 3_000_000_000L;

    private TierProbe() {
    }

    /**
     * Answers the model for {@code net} with batches of {@code batch} on {@code threads} threads:
     * the given figures ({@link #SPEEDS_PROPERTY}) and the measured rest, each measured once per JVM
     * (compute once per shape of the measured layers, batch and threads).
     *
     * @throws IllegalArgumentException if the given figures do not parse
     */
    public static StepTimeModel model(Network net, int batch, StateModel.Mode mode, int threads) {
        return model(net, batch, mode, threads, null);
    }

    /**
     * {@link #model(Network, int, StateModel.Mode, int)} with the disk tier measured in {@code spillDir}
     * (its speed once per JVM and directory, its free space each time), the directory the executor will
     * spill to; null: {@code -Dcheckprop.spill.dir}, else {@code java.io.tmpdir}.
     *
     * @throws IllegalArgumentException if the given figures do not parse
     */
    public static StepTimeModel model(Network net, int batch, StateModel.Mode mode, int threads, Path spillDir) {
        final Path dir = spillDir != null ? spillDir : spillDir();
        final Map<String, String> given = parse(System.getProperty(SPEEDS_PROPERTY, ""));
        final Chain chain = MemoryModel.chain(net, batch, mode, ArrayLayout.current().heapFootprint());
        final double[] compute;
        if (given.containsKey("unit") && given.containsKey("backward")) {
            compute = new double[] {Double.parseDouble(given.get("unit")), Double.parseDouble(given.get("backward"))};
        } else {
            final double[] raw = computeRaw(net, batch, threads);
            // raw[0] is seconds per raw cost unit (Layer.forwardCost); the chain's unit is scaled.
            double rawTotal = 0;
            long units = 0;
            for (int l = 1; l <= net.depth(); l++) {
                rawTotal += net.layer(l).forwardCost(batch);
                units += chain.cost(l);
            }
            compute = new double[] {given.containsKey("unit") ? Double.parseDouble(given.get("unit"))
                    : raw[0] * rawTotal / units, given.containsKey("backward") ? Double.parseDouble(given.get("backward")) : raw[1]};
        }
        long largest = 1;
        for (long f : StateModel.floats(net, batch)) {
            largest = Math.max(largest, StateModel.copyBytes(f, mode));
        }
        final Map<Tier, TierCosts> tiers = new EnumMap<>(Tier.class);
        for (Tier t : Tier.values()) {
            tiers.put(t, tier(t, given, largest, dir));
        }
        return new StepTimeModel(compute[0], compute[1], tiers);
    }

    /**
     * Parses given speeds: comma-separated {@code KEY=VALUE} with keys {@code unit} (seconds per cost
     * unit), {@code backward} (backward over forward time), and for {@code offheap} and {@code disk}:
     * {@code TIER.write} and {@code TIER.read} (bytes per second), {@code TIER.latency} (nanoseconds),
     * {@code TIER.capacity} (bytes, as {@code Planners.parseBytes} reads them). E.g.
     * {@code unit=2.1e-11,backward=2,disk.write=1.5e9,disk.read=2e9,disk.latency=50000}.
     *
     * @throws IllegalArgumentException naming an unknown key or a value that is not a number
     */
    public static Map<String, String> parse(String text) {
        final Map<String, String> out = new java.util.LinkedHashMap<>();
        final List<String> keys = List.of("unit", "backward", "offheap.write", "offheap.read", "offheap.latency",
                "offheap.capacity", "disk.write", "disk.read", "disk.latency", "disk.capacity");
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            final int eq = part.indexOf('=');
            final String key = eq < 0 ? part.trim() : part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            if (eq < 0 || !keys.contains(key)) {
                throw new IllegalArgumentException("-D" + SPEEDS_PROPERTY + ": '" + part.trim() + "' is not KEY=VALUE with"
                        + " KEY one of " + keys);
            }
            final String value = part.substring(eq + 1).trim();
            try {
                if (key.endsWith(".capacity")) {
                    dev.checkprop.plan.Planners.parseBytes(value);
                } else if (!(Double.parseDouble(value) >= 0)) {
                    throw new NumberFormatException();
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-D" + SPEEDS_PROPERTY + ": " + key + " must be a non-negative number"
                        + (key.endsWith(".capacity") ? " of bytes" : "") + ", got '" + value + "'");
            }
            out.put(key, value);
        }
        return out;
    }

    /** {seconds per raw cost unit, backward ratio} from the costliest three-layer window, cached. */
    private static double[] computeRaw(Network net, int batch, int threads) {
        final int L = net.depth();
        final int w = Math.min(3, L);
        int from = 1;
        double bestCost = -1;
        for (int l = 1; l + w - 1 <= L; l++) {
            double c = 0;
            for (int m = l; m < l + w; m++) {
                c += net.layer(m).forwardCost(batch);
            }
            if (c > bestCost) {
                bestCost = c;
                from = l;
            }
        }
        final List<Layer> window = net.layers().subList(from - 1, from - 1 + w);
        final StringBuilder key = new StringBuilder().append(batch).append('/').append(threads);
        for (Layer d : window) {
            key.append('/').append(d.getClass().getSimpleName()).append(d.inputWidth()).append('x').append(d.outputWidth());
        }
        // In a small heap the probe runs a smaller batch (its cost per unit is then a little higher:
        // the figure errs towards recomputing): states, gradients and parameters within an eighth of the free heap.
        final Network sub = new Network(window);
        int probeBatch = batch;
        while (probeBatch > 1 && probeBytes(sub, probeBatch) > free() / 8) {
            probeBatch = (probeBatch + 1) / 2;
        }
        double cost = 0;
        for (Layer d : window) {
            cost += d.forwardCost(probeBatch);
        }
        final double c = cost;
        final int b = probeBatch;
        final double[] perRaw = COMPUTE.computeIfAbsent(key.toString(), k -> measureCompute(sub, b, threads, c)).clone();
        return perRaw;
    }

    /** Heap bytes a full-storage step of {@code sub} at {@code batch} needs, about: states, workspace, two parameter sets. */
    private static long probeBytes(Network sub, int batch) {
        long states = 0;
        for (long f : StateModel.floats(sub, batch)) {
            states += 4 * f;
        }
        final long widest = 4L * StateModel.widestStateRows(sub) * batch;
        return states + 4 * widest + 8 * sub.parameterCount() + 8L * batch * (sub.inputWidth() + sub.outputWidth());
    }

    private static long free() {
        final Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    private static double[] measureCompute(Network sub, int batch, int threads, double rawCost) {
        final Batch zeros = Batch.regression(new float[batch * sub.inputWidth()], sub.inputWidth(),
                new float[batch * sub.outputWidth()], sub.outputWidth());
        final Gradients g = Gradients.zerosLike(sub);
        long forward = Long.MAX_VALUE;
        long backward = Long.MAX_VALUE;
        try (Executor ex = new Executor(sub, new FullStoragePlanner().plan(sub.depth()), batch, Kernels.get(), threads)) {
            // The executor's warm-up leaves three small layers far from compiled: the first steps ran
            // 3-10x slower than the 30th (width 16, batch 16384), and five of them made the 512-layer
            // prediction 6.6x the measured step. So: until the fastest forward and backward have not
            // improved by 2% for STABLE_STEPS steps in a row, within MAX_PROBE_NANOS. Each minimum on
            // its own: the step with the fastest forward need not have the fastest backward.
            final long start = System.nanoTime();
            int calm = 0;
            for (int rep = 0; rep < MAX_PROBE_STEPS && calm < STABLE_STEPS
                    && System.nanoTime() - start < MAX_PROBE_NANOS; rep++) {
                ex.gradient(zeros, Loss.MSE, g);
                final long f = ex.lastForwardNanos();
                final long b = ex.lastBackwardNanos();
                final boolean better = f < forward - forward / 50 || b < backward - backward / 50;
                forward = Math.min(forward, f);
                backward = Math.min(backward, b);
                calm = better ? 0 : calm + 1;
            }
        }
        return new double[] {Math.max(1, forward) / 1e9 / rawCost, (double) backward / Math.max(1, forward)};
    }

    private static TierCosts tier(Tier t, Map<String, String> given, long largest, Path dir) {
        final String p = t.text() + ".";
        final boolean all = given.containsKey(p + "write") && given.containsKey(p + "read") && given.containsKey(p + "latency");
        // Disk once per directory: another --spill-dir may be another file system.
        final String key = t == Tier.DISK ? t.text() + ":" + dir.toAbsolutePath().normalize() : t.text();
        final TierCosts measured = all ? null : TIERS.computeIfAbsent(key, x -> measureTier(t, Math.min(largest, MAX_PROBE_BYTES), dir));
        final long write = given.containsKey(p + "write") ? (long) Double.parseDouble(given.get(p + "write")) : measured.writeBytesPerSecond();
        final long read = given.containsKey(p + "read") ? (long) Double.parseDouble(given.get(p + "read")) : measured.readBytesPerSecond();
        final long latency = given.containsKey(p + "latency") ? (long) Double.parseDouble(given.get(p + "latency"))
                : measured.latencyNanos();
        final long capacity = given.containsKey(p + "capacity") ? dev.checkprop.plan.Planners.parseBytes(given.get(p + "capacity"))
                : capacity(t, dir);
        return new TierCosts(capacity, Math.max(1, write), Math.max(1, read), latency);
    }

    /** Answers the bytes {@code tier} can hold now, less 10%. */
    static long capacity(Tier tier) {
        return capacity(tier, spillDir());
    }

    /** Answers the bytes {@code tier} can hold now, less 10%, the disk's in {@code dir}. */
    static long capacity(Tier tier, Path dir) {
        if (tier == Tier.OFF_HEAP) {
            // As the executor's pre-flight counts it: the limit less what direct buffers reserve.
            return Math.max(0, (DirectMemory.limit() - DirectMemory.reserved()) / 10 * 9);
        }
        try {
            return Math.max(0, Files.getFileStore(dir).getUsableSpace() / 10 * 9);
        } catch (IOException e) {
            return 0;
        }
    }

    static Path spillDir() {
        return Path.of(System.getProperty(SPILL_PROPERTY, System.getProperty("java.io.tmpdir")));
    }

    private static TierCosts measureTier(Tier tier, long bytes, Path dir) {
        // The executor's own store: its slots and its I/O thread, so the figures include the hand-off.
        final int n = (int) Math.max(SMALL_FLOATS, Math.min(Math.min(bytes, free() / 8), Integer.MAX_VALUE - 8) / 4);
        final float[] heapSide = new float[n];
        final TierSlots[] slots = new TierSlots[Tier.values().length];
        SpillDirectory spill = null;
        try {
            if (tier == Tier.OFF_HEAP) {
                slots[tier.ordinal()] = new OffHeapSlots(new long[] {n});
            } else {
                spill = SpillDirectory.create(dir);
                slots[tier.ordinal()] = new DiskSlots(spill, new long[] {n});
            }
            try (TierIo io = new TierIo(slots, 2)) {
                final long[] small = time(io, tier, heapSide, SMALL_FLOATS, 8);
                final long[] big = time(io, tier, heapSide, n, 4);
                final long latency = Math.min(small[0], small[1]);
                final long w = Math.max(1, big[0] - latency);
                final long r = Math.max(1, big[1] - latency);
                return new TierCosts(0, (long) Math.min(Long.MAX_VALUE / 2, 4.0 * n * 1e9 / w),
                        (long) Math.min(Long.MAX_VALUE / 2, 4.0 * n * 1e9 / r), latency);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("measuring tier " + tier.text() + " in " + dir + ": " + e.getMessage(), e);
        } finally {
            if (slots[tier.ordinal()] != null) {
                slots[tier.ordinal()].close();
            }
            if (spill != null) {
                spill.close();
            }
        }
    }

    /** {best write ns, best read ns} of {@code len} floats over {@code reps} passes, each waited for. */
    private static long[] time(TierIo io, Tier tier, float[] buf, int len, int reps) {
        long w = Long.MAX_VALUE;
        long r = Long.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            final long t0 = System.nanoTime();
            io.await(io.write(tier, 0, buf, null, len, 1));
            final long t1 = System.nanoTime();
            io.await(io.read(tier, 0, buf, null, len, 1));
            final long t2 = System.nanoTime();
            w = Math.min(w, t1 - t0);
            r = Math.min(r, t2 - t1);
        }
        return new long[] {w, r};
    }
}
