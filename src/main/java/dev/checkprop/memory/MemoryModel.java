package dev.checkprop.memory;

import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;

import java.util.EnumMap;
import java.util.Map;

/**
 * Predicts, from the network, the plan and the batch size alone, the bytes every category of a
 * gradient computation holds, with array sizes from the running VM ({@link ArrayLayout}). It
 * re-derives the executor's pool sizes by simulating the plan itself, so a measurement that agrees
 * with it confirms that the executor holds what the plan says, no more.
 */
public final class MemoryModel {

    private MemoryModel() {
    }

    /**
     * A prediction.
     *
     * @param bytes            per category
     * @param peakLiveBytes    the most bytes of live activation buffers at once (headers included)
     * @param peakLiveAction   the first action at which that peak is reached
     * @param peakLiveBuffers  the most activation buffers live at once
     * @param forwardFlops     2&middot;N&middot;&Sigma; n<sub>l</sub>&middot;n<sub>l-1</sub> over every forward evaluation,
     *                         including each residual branch recomputed in the backward pass
     */
    public record Prediction(Map<MemoryCategory, Long> bytes, long peakLiveBytes, int peakLiveAction,
                             int peakLiveBuffers, long forwardFlops) {

        /** Answers the sum over all categories. */
        public long total() {
            return bytes.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Answers one category. */
        public long bytes(MemoryCategory c) {
            return bytes.getOrDefault(c, 0L);
        }
    }

    /** Answers the bytes of one activation buffer a<sup>l</sup> for a batch of N (1 &le; l &le; L). */
    public static long activationBytes(Network net, int l, int batch, ArrayLayout layout) {
        return layout.floatArray((long) net.width(l) * batch);
    }

    /** Answers the flops of one forward evaluation of layer l: 2&middot;N&middot;n<sub>l</sub>&middot;n<sub>l-1</sub>, 0 for dropout. */
    public static long layerFlops(Network net, int l, int batch) {
        return net.layer(l).hasParameters() ? 2L * batch * net.width(l) * net.width(l - 1) : 0L;
    }

    /** Answers the bytes of W and b of every layer (the same for their gradients). */
    public static long parameterBytes(Network net, ArrayLayout layout) {
        long b = 0;
        for (int l = 1; l <= net.depth(); l++) {
            b += layout.floatArray((long) net.width(l) * net.width(l - 1)) + layout.floatArray(net.width(l));
        }
        return b;
    }

    /**
     * Answers the executor's constant scratch: the input transposed, the sample-major copy of
     * a<sup>l-1</sup>, and two buffers for the gradient flowing backward.
     */
    public static long workspaceBytes(Network net, int batch, ArrayLayout layout) {
        int maxIn = 0;
        int maxOut = 0;
        for (int l = 1; l <= net.depth(); l++) {
            maxIn = Math.max(maxIn, net.width(l - 1));
            maxOut = Math.max(maxOut, net.width(l));
        }
        long flow = layout.floatArray((long) Math.max(maxIn, maxOut) * batch);
        boolean residual = net.layers().stream().anyMatch(d -> d.kind() == DenseLayer.Kind.RESIDUAL);
        // Two buffers for the gradient flowing backward, two more for a residual branch's f(z) and gradient.
        return layout.floatArray((long) net.inputWidth() * batch) + layout.floatArray((long) maxIn * batch)
                + (residual ? 4 : 2) * flow;
    }

    /** Answers the bytes of a batch: x and either y or labels. */
    public static long batchBytes(Network net, int batch, boolean labels, ArrayLayout layout) {
        return layout.floatArray((long) net.inputWidth() * batch)
                + (labels ? layout.intArray(batch) : layout.floatArray((long) net.outputWidth() * batch));
    }

    /**
     * Predicts a gradient computation.
     *
     * @param optimizerStateLengths lengths of the optimizer's float state arrays (empty without one)
     */
    public static Prediction predict(Network net, Plan plan, int batch, boolean labels, long[] optimizerStateLengths,
                                     ArrayLayout layout) {
        if (plan.layers() != net.depth()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers but the network has " + net.depth());
        }
        final int depth = net.depth();
        // Per distinct width: how many buffers the plan holds at once (the executor's pools).
        java.util.TreeMap<Integer, int[]> perWidth = new java.util.TreeMap<>();
        boolean[] live = new boolean[depth + 1];
        long liveBytes = 0;
        long peakBytes = 0;
        int peakAction = -1;
        int liveCount = 0;
        int peakCount = 0;
        long flops = 0;
        for (int i = 0; i < plan.size(); i++) {
            int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    int[] c = perWidth.computeIfAbsent(net.width(l), w -> new int[2]);
                    c[1] = Math.max(c[1], ++c[0]);
                    live[l] = true;
                    liveBytes += activationBytes(net, l, batch, layout);
                    liveCount++;
                    peakCount = Math.max(peakCount, liveCount);
                    flops += layerFlops(net, l, batch);
                    if (liveBytes > peakBytes) {
                        peakBytes = liveBytes;
                        peakAction = i;
                    }
                }
                case DROP -> {
                    perWidth.get(net.width(l))[0]--;
                    live[l] = false;
                    liveBytes -= activationBytes(net, l, batch, layout);
                    liveCount--;
                }
                default -> {
                }
            }
        }
        for (int l = 1; l <= depth; l++) {
            if (net.layer(l).kind() == DenseLayer.Kind.RESIDUAL) {
                flops += layerFlops(net, l, batch); // the branch recomputed in the backward pass
            }
        }
        long pool = 0;
        for (Map.Entry<Integer, int[]> e : perWidth.entrySet()) {
            pool += e.getValue()[1] * layout.floatArray((long) e.getKey() * batch);
        }
        long optimizer = 0;
        for (long len : optimizerStateLengths) {
            optimizer += layout.floatArray(len);
        }
        Map<MemoryCategory, Long> bytes = new EnumMap<>(MemoryCategory.class);
        long params = parameterBytes(net, layout);
        bytes.put(MemoryCategory.PARAMETERS, params);
        bytes.put(MemoryCategory.GRADIENTS, params);
        bytes.put(MemoryCategory.ACTIVATIONS, pool);
        bytes.put(MemoryCategory.WORKSPACE, workspaceBytes(net, batch, layout));
        bytes.put(MemoryCategory.BATCH, batchBytes(net, batch, labels, layout));
        bytes.put(MemoryCategory.OPTIMIZER_STATE, optimizer);
        return new Prediction(bytes, peakBytes, peakAction, peakCount, flops);
    }
}
