package dev.checkprop.memory;

import dev.checkprop.exec.Workspace;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Simulation;
import dev.checkprop.plan.Tier;
import dev.checkprop.tier.TierStorage;

import java.util.EnumMap;
import java.util.Map;

/**
 * Predicts, from the network, the plan, the batch size and the mode alone, the bytes every category
 * of a gradient or curvature computation holds, with array sizes from the running VM
 * ({@link ArrayLayout}). State sizes come from {@link StateModel}, the plan's live bytes and the
 * buffers the executor allocates from the same {@link Simulation} the executor follows, and the
 * workspace from the executor's and the layers' own declarations ({@link Workspace#floats},
 * {@link Workspace#scratchNeeds}): nothing here is a second copy of what an executor does, so a
 * measurement that agrees with it confirms that the executor holds what the plan says, no more.
 */
public final class MemoryModel {

    /** Chain costs must keep L&middot;&Sigma;cost below 2<sup>59</sup>; scaled below 2<sup>58</sup> to leave room. */
    private static final long COST_LIMIT = 1L << 58;

    private MemoryModel() {
    }

    /**
     * A prediction.
     *
     * @param bytes            per category
     * @param peakLiveBytes    the most bytes of live states at once (headers included)
     * @param peakOccupiedBytes the bytes of the buffers holding those states at that moment (more than
     *                         {@code peakLiveBytes} when a smaller state reuses a larger buffer)
     * @param peakLiveAction   the first action at which that peak is reached
     * @param peakLiveBuffers  the most states live at once
     * @param forwardFlops     the flops of every forward evaluation, including each forward a layer
     *                         recomputes in its backward (a residual branch)
     * @param tiers            what the plan's tier copies hold outside the heap (all 0 without tier actions)
     */
    public record Prediction(Map<MemoryCategory, Long> bytes, long peakLiveBytes, long peakOccupiedBytes, int peakLiveAction,
                             int peakLiveBuffers, long forwardFlops, TierBytes tiers) {

        /** Answers the sum over all categories. */
        public long total() {
            return bytes.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Answers one category. */
        public long bytes(MemoryCategory c) {
            return bytes.getOrDefault(c, 0L);
        }
    }

    /**
     * Outside the heap: the executor's tier slots as the simulation sizes them (copies are raw floats),
     * the disk tier's staging buffer, and the most bytes of copies held at once in each tier.
     *
     * @param offHeapBytes     the off-heap slots: direct memory
     * @param diskBytes        the disk slots: the spill file's size
     * @param stagingBytes     the disk tier's staging buffer: direct memory
     * @param offHeapPeakBytes the most bytes of copies held off the heap at once
     * @param diskPeakBytes    the most bytes of copies held on disk at once
     */
    public record TierBytes(long offHeapBytes, long diskBytes, long stagingBytes, long offHeapPeakBytes, long diskPeakBytes) {

        /** Answers the direct memory the tiers take: the off-heap slots and the staging buffer. */
        public long directBytes() {
            return offHeapBytes + stagingBytes;
        }

        /** Answers the tier figures of {@code sim}, whose states have {@code arrays} arrays each. */
        static TierBytes of(Simulation sim, int arrays) {
            final long[] disk = new long[sim.tierSlots(Tier.DISK)];
            for (int s = 0; s < disk.length; s++) {
                disk[s] = sim.tierSlotSize(Tier.DISK, s) * arrays;
            }
            return new TierBytes(sim.tierAllocatedBytes(Tier.OFF_HEAP), sim.tierAllocatedBytes(Tier.DISK),
                    TierStorage.stagingBytes(disk), sim.tierPeakBytes(Tier.OFF_HEAP), sim.tierPeakBytes(Tier.DISK));
        }
    }

    /** Answers the bytes of layer l's state in {@code mode} for a batch of N (all its arrays, headers included). */
    public static long stateBytes(Network net, int l, int batch, StateModel.Mode mode, ArrayLayout layout) {
        return mode.arrays() * layout.floatArray(StateModel.floats(net.layer(l), batch));
    }

    /** Answers the flops of one forward evaluation of layer l (0 for a layer without a product). */
    public static long layerFlops(Network net, int l, int batch) {
        return net.layer(l).forwardFlops(batch);
    }

    /**
     * Answers the chain the budget planners see for {@code mode}: per layer, its state's bytes
     * ({@link #stateBytes}) and the cost of one forward evaluation in that mode
     * ({@link Layer#forwardCost}, with the tangent's extra products in curvature mode), divided by a
     * common factor when needed to keep L&middot;&Sigma;cost within {@link Chain}'s limit (only ratios
     * matter to a planner).
     */
    public static Chain chain(Network net, int batch, StateModel.Mode mode, ArrayLayout layout) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        final int depth = net.depth();
        final long[] bytes = new long[depth];
        final double[] raw = new double[depth];
        double total = 0;
        for (int l = 1; l <= depth; l++) {
            bytes[l - 1] = stateBytes(net, l, batch, mode, layout);
            final Layer d = net.layer(l);
            raw[l - 1] = mode == StateModel.Mode.CURVATURE ? d.tangentCost(batch, l == 1) : d.forwardCost(batch);
            total += raw[l - 1];
        }
        // A double sum is exact enough here: it only decides the common divisor.
        final double scale = Math.max(1.0, Math.ceil(total * depth / COST_LIMIT));
        final long[] cost = new long[depth];
        for (int l = 0; l < depth; l++) {
            cost[l] = Math.max(1L, (long) (raw[l] / scale));
        }
        return Chain.of(bytes, cost);
    }

    /**
     * Answers the simulation of {@code plan} with heap sizes: live bytes, peak, and the buffers an
     * executor allocates; tier copies sized as {@link StateModel#copyBytes} (raw floats, no header).
     */
    public static Simulation simulate(Network net, Plan plan, int batch, StateModel.Mode mode, ArrayLayout layout) {
        if (plan.layers() != net.depth()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers but the network has " + net.depth());
        }
        return Simulation.of(plan, StateModel.floats(net, batch), f -> mode.arrays() * layout.floatArray(f),
                f -> StateModel.copyBytes(f, mode));
    }

    /** Answers the bytes of every layer's parameters (the same for their gradients, directions and products). */
    public static long parameterBytes(Network net, ArrayLayout layout) {
        long b = 0;
        for (Layer d : net.layers()) {
            b += layout.floatArray(d.weights().length) + layout.floatArray(d.bias().length);
        }
        return b;
    }

    /**
     * Answers the executor's constant arrays in {@code mode}: the input transposed, the buffers of the
     * gradient flowing backward (two, four with their R-images) and the layers' scratch.
     */
    public static long workspaceBytes(Network net, int batch, StateModel.Mode mode, ArrayLayout layout) {
        final long[] w = Workspace.floats(net, batch);
        long b = layout.floatArray(w[0]) + Workspace.flowBuffers(mode) * layout.floatArray(w[1]);
        for (long[] slots : Workspace.scratchNeeds(net, batch, mode).values()) {
            for (long f : slots) {
                if (f > 0) {
                    b += layout.floatArray(f);
                }
            }
        }
        return b;
    }

    /** Answers the bytes of a batch: x and either y or labels. */
    public static long batchBytes(Network net, int batch, boolean labels, ArrayLayout layout) {
        return layout.floatArray((long) net.inputWidth() * batch)
                + (labels ? layout.intArray(batch) : layout.floatArray((long) net.outputWidth() * batch));
    }

    /** As {@link #predict(Network, Plan, int, boolean, long[], StateModel.Mode, ArrayLayout)} for gradients. */
    public static Prediction predict(Network net, Plan plan, int batch, boolean labels, long[] optimizerStateLengths,
                                     ArrayLayout layout) {
        return predict(net, plan, batch, labels, optimizerStateLengths, StateModel.Mode.GRADIENT, layout);
    }

    /**
     * Predicts a gradient computation, or in {@link StateModel.Mode#CURVATURE} a curvature-vector
     * product (whose direction and product count with the gradients: three parameter-shaped sets).
     *
     * @param optimizerStateLengths lengths of the optimizer's float state arrays (empty without one)
     */
    public static Prediction predict(Network net, Plan plan, int batch, boolean labels, long[] optimizerStateLengths,
                                     StateModel.Mode mode, ArrayLayout layout) {
        final Simulation sim = simulate(net, plan, batch, mode, layout);
        long flops = 0;
        for (int i = 0; i < plan.size(); i++) {
            if (plan.op(i) == Plan.Op.FORWARD) {
                flops += layerFlops(net, plan.layer(i), batch);
            }
        }
        for (Layer d : net.layers()) {
            flops += d.backwardRecomputedFlops(batch);
        }
        long optimizer = 0;
        for (long len : optimizerStateLengths) {
            optimizer += layout.floatArray(len);
        }
        final Map<MemoryCategory, Long> bytes = new EnumMap<>(MemoryCategory.class);
        final long params = parameterBytes(net, layout);
        bytes.put(MemoryCategory.PARAMETERS, params);
        bytes.put(MemoryCategory.GRADIENTS, mode == StateModel.Mode.CURVATURE ? 3 * params : params);
        bytes.put(MemoryCategory.ACTIVATIONS, sim.allocatedBytes());
        bytes.put(MemoryCategory.WORKSPACE, workspaceBytes(net, batch, mode, layout));
        bytes.put(MemoryCategory.BATCH, batchBytes(net, batch, labels, layout));
        bytes.put(MemoryCategory.OPTIMIZER_STATE, optimizer);
        return new Prediction(bytes, sim.peakBytes(), sim.occupiedBytesAtPeak(), sim.peakAction(), sim.peakStates(), flops,
                TierBytes.of(sim, mode.arrays()));
    }
}
