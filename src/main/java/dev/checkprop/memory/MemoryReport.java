package dev.checkprop.memory;

import dev.checkprop.exec.ExecutionListener;
import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import org.openjdk.jol.info.GraphStats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a gradient computation holds, by category: the bytes the plan predicts
 * ({@link MemoryModel}) and, when measured, the bytes JOL's object-graph walk finds on the live
 * objects at the plan's peak action. The two must be equal; JOL counts a shared object once, so it
 * also catches a buffer held twice or leaked.
 *
 * <p>Measuring initialises JOL and walks every array: seconds, not for the hot path. Immutable.
 */
public final class MemoryReport {

    private final MemoryModel.Prediction predicted;
    private final Map<MemoryCategory, Long> measured;
    private final long measuredPeakLive;
    private final String vm;

    private MemoryReport(MemoryModel.Prediction predicted, Map<MemoryCategory, Long> measured, long measuredPeakLive,
                         String vm) {
        this.predicted = predicted;
        this.measured = measured == null ? null : Collections.unmodifiableMap(measured);
        this.measuredPeakLive = measuredPeakLive;
        this.vm = vm;
    }

    /** Answers a report with predictions only, for the executor's mode. */
    public static MemoryReport predicted(Executor exec, boolean labels, long[] optimizerStateLengths) {
        ArrayLayout layout = ArrayLayout.current();
        return new MemoryReport(MemoryModel.predict(exec.network(), exec.plan(), exec.batchSize(), labels,
                optimizerStateLengths, exec.mode(), layout), null, -1, layout.vmDetails());
    }

    /**
     * Runs one gradient computation and measures, with JOL, every category at the plan's peak action
     * (the first action at which the live state bytes are largest).
     *
     * @param optimizerState the optimizer's state arrays (empty without one). Not modified.
     */
    public static MemoryReport measure(Executor exec, Batch data, Loss loss, Gradients out, List<float[]> optimizerState) {
        return measure(exec, data, optimizerState, List.of(out), () -> exec.gradient(data, loss, out));
    }

    /**
     * Runs one curvature-vector product on an executor built by {@link Executor#forHessianProducts} and
     * measures every category at the plan's peak action: states are (a, R{a}) pairs, and the
     * direction, the gradient and the product count as gradients.
     */
    public static MemoryReport measureCurvature(Executor exec, Batch data, Loss loss, Gradients v, Gradients gradient,
                                                Gradients product, Curvature curvature) {
        return measure(exec, data, List.of(), List.of(v, gradient, product),
                () -> exec.hessianVector(data, loss, v, gradient, product, curvature));
    }

    private static MemoryReport measure(Executor exec, Batch data, List<float[]> optimizerState, List<Gradients> outputs,
                                        Runnable run) {
        ArrayLayout layout = ArrayLayout.current();
        long[] lengths = optimizerState.stream().mapToLong(a -> a.length).toArray();
        MemoryModel.Prediction p = MemoryModel.predict(exec.network(), exec.plan(), exec.batchSize(),
                data.labels() != null, lengths, exec.mode(), layout);
        Map<MemoryCategory, Long> m = new EnumMap<>(MemoryCategory.class);
        long[] peakLive = {-1};
        exec.setListener(new ExecutionListener() {
            @Override
            public boolean wantsAction(int action) {
                return action == p.peakLiveAction();
            }

            @Override
            public void afterAction(int action, List<float[]> live) {
                peakLive[0] = jol(live);
                Network net = exec.network();
                List<Object> params = new ArrayList<>();
                List<Object> grads = new ArrayList<>();
                for (int l = 1; l <= net.depth(); l++) {
                    params.add(net.layer(l).weights());
                    params.add(net.layer(l).bias());
                    for (Gradients out : outputs) {
                        grads.add(out.weights(l));
                        grads.add(out.bias(l));
                    }
                }
                m.put(MemoryCategory.PARAMETERS, jol(params));
                m.put(MemoryCategory.GRADIENTS, jol(grads));
                m.put(MemoryCategory.ACTIVATIONS, jol(exec.activationPool()));
                m.put(MemoryCategory.WORKSPACE, jol(exec.workspace()));
                List<Object> batch = new ArrayList<>();
                batch.add(data.inputs());
                batch.add(data.labels() != null ? data.labels() : data.targets());
                m.put(MemoryCategory.BATCH, jol(batch));
                m.put(MemoryCategory.OPTIMIZER_STATE, optimizerState.isEmpty() ? 0L : jol(optimizerState));
            }
        });
        try {
            run.run();
        } finally {
            exec.setListener(null);
        }
        return new MemoryReport(p, m, peakLive[0], layout.vmDetails());
    }

    private static long jol(List<?> roots) {
        return roots.isEmpty() ? 0 : GraphStats.parseInstance(roots.toArray()).totalSize();
    }

    /** Answers the prediction. */
    public MemoryModel.Prediction predicted() {
        return predicted;
    }

    /** Answers whether JOL measured this report. */
    public boolean isMeasured() {
        return measured != null;
    }

    /** Answers JOL's bytes for a category. @throws IllegalStateException if not measured */
    public long measured(MemoryCategory c) {
        if (measured == null) {
            throw new IllegalStateException("this report was not measured (use MemoryReport.measure)");
        }
        return measured.get(c);
    }

    /**
     * Answers JOL's bytes of the buffers holding live states at the peak action (to compare with
     * {@link MemoryModel.Prediction#peakOccupiedBytes()}), or -1 if not measured.
     */
    public long measuredPeakLiveBytes() {
        return measuredPeakLive;
    }

    /** Answers whether every measured category equals its prediction (true when not measured). */
    public boolean consistent() {
        if (measured == null) {
            return true;
        }
        for (MemoryCategory c : MemoryCategory.values()) {
            if (measured.get(c) != predicted.bytes(c)) {
                return false;
            }
        }
        return measuredPeakLive == predicted.peakOccupiedBytes();
    }

    /** Answers the report as a map for JSON: {@code {category: {predicted, measured}}, peak_live: …}. */
    public Map<String, Object> toMap() {
        Map<String, Object> r = new LinkedHashMap<>();
        for (MemoryCategory c : MemoryCategory.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("predicted_bytes", predicted.bytes(c));
            if (measured != null) {
                e.put("measured_bytes", measured.get(c));
            }
            r.put(c.key(), e);
        }
        Map<String, Object> peak = new LinkedHashMap<>();
        peak.put("predicted_bytes", predicted.peakOccupiedBytes());
        peak.put("state_bytes", predicted.peakLiveBytes());
        if (measured != null) {
            peak.put("measured_bytes", measuredPeakLive);
        }
        peak.put("action", predicted.peakLiveAction());
        peak.put("buffers", predicted.peakLiveBuffers());
        r.put("activations_live_at_peak", peak);
        r.put("total_predicted_bytes", predicted.total());
        final MemoryModel.TierBytes t = predicted.tiers();
        if (t.offHeapBytes() + t.diskBytes() > 0) {
            Map<String, Object> tiers = new LinkedHashMap<>();
            tiers.put("offheap_predicted_bytes", t.offHeapBytes());
            tiers.put("offheap_peak_copy_bytes", t.offHeapPeakBytes());
            tiers.put("disk_predicted_bytes", t.diskBytes());
            tiers.put("disk_peak_copy_bytes", t.diskPeakBytes());
            tiers.put("staging_predicted_bytes", t.stagingBytes());
            tiers.put("direct_predicted_bytes", t.directBytes());
            r.put("tiers", tiers);
        }
        if (measured != null) {
            r.put("consistent", consistent());
        }
        return r;
    }

    /** Answers a fixed-width table, the VM first (as JOL's samples print it). */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(vm.strip()).append('\n');
        sb.append(String.format(Locale.ROOT, "%-26s %16s %16s%n", "category", "predicted B", "measured B"));
        for (MemoryCategory c : MemoryCategory.values()) {
            sb.append(String.format(Locale.ROOT, "%-26s %,16d %16s%n", c.key(), predicted.bytes(c),
                    measured == null ? "-" : String.format(Locale.ROOT, "%,d", measured.get(c))));
        }
        sb.append(String.format(Locale.ROOT, "%-26s %,16d %16s%n", "live at peak (action " + predicted.peakLiveAction() + ")",
                predicted.peakOccupiedBytes(), measured == null ? "-" : String.format(Locale.ROOT, "%,d", measuredPeakLive)));
        sb.append(String.format(Locale.ROOT, "%-26s %,16d%n", "total", predicted.total()));
        final MemoryModel.TierBytes t = predicted.tiers();
        if (t.offHeapBytes() + t.diskBytes() > 0) {
            sb.append(String.format(Locale.ROOT, "%-26s %,16d%n", "off-heap slots", t.offHeapBytes()));
            sb.append(String.format(Locale.ROOT, "%-26s %,16d%n", "disk slots (spill file)", t.diskBytes()));
            sb.append(String.format(Locale.ROOT, "%-26s %,16d%n", "disk staging (off-heap)", t.stagingBytes()));
        }
        return sb.toString();
    }
}
