package dev.checkprop.train;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: everything a {@link Training} needs to continue as if it had never
 * stopped. One safetensors file (written atomically) holding
 * <ul>
 * <li>the model, under the names of a model file ({@link ModelFile}), so PyTorch reads its weights
 *     as it reads a model's;</li>
 * <li>the optimizer's state arrays as {@code checkpoint.optimizer.NNNNNN} (F32; Adam's m and v, SGD's
 *     velocity, Hessian-free's vectors, whose damping and warm-start flag go in the metadata);</li>
 * <li>in {@code __metadata__} under {@code checkpoint.}: the step, the batch size and shuffle seed
 *     (which with the step fix the data order, the held-out split and the dropout masks: all are pure
 *     functions of them), the optimizer with its hyperparameters, a fingerprint of the data, the
 *     micro-batch count, the running loss of a partly done epoch, and the history, every double as
 *     its exact bits.</li>
 * </ul>
 * {@link Training#resume} checks that the run it continues is the same (same network shape, optimizer,
 * batch, seed, data and micro-batching) and refuses otherwise, naming what differs.
 */
public final class Checkpoint {

    static final String PREFIX = "checkpoint.";
    static final String FORMAT = "1";

    private final Network network;
    private final long step;
    private final int batch;
    private final long seed;
    private final String optimizer;
    private final List<float[]> optimizerState;
    private final double[] hessianFree;
    private final long dataFingerprint;
    private final int microBatches;
    private final double epochLossSum;
    private final double epochSeconds;
    private final List<History.Epoch> history;
    private final String plan;

    Checkpoint(Network network, long step, int batch, long seed, String optimizer, List<float[]> optimizerState,
               double[] hessianFree, long dataFingerprint, int microBatches, double epochLossSum, double epochSeconds,
               List<History.Epoch> history, String plan) {
        this.network = network;
        this.step = step;
        this.batch = batch;
        this.seed = seed;
        this.optimizer = optimizer;
        this.optimizerState = optimizerState;
        this.hessianFree = hessianFree;
        this.dataFingerprint = dataFingerprint;
        this.microBatches = microBatches;
        this.epochLossSum = epochLossSum;
        this.epochSeconds = epochSeconds;
        this.history = List.copyOf(history);
        this.plan = plan;
    }

    /**
     * Reads a checkpoint.
     *
     * @throws IOException          if the file cannot be read
     * @throws SafeTensorsException naming the file and what is missing or malformed
     */
    public static Checkpoint read(Path path) throws IOException {
        SafeTensors st = SafeTensors.read(path);
        String source = path.toString();
        Map<String, String> meta = st.metadata();
        if (!FORMAT.equals(meta.get(PREFIX + "format"))) {
            throw new SafeTensorsException(source + ": not a checkprop training checkpoint (no __metadata__ "
                    + PREFIX + "format = " + FORMAT + ")");
        }
        SafeTensors.Builder model = SafeTensors.builder();
        for (Tensor t : st.tensors().values()) {
            if (!t.name().startsWith(PREFIX)) {
                model.put(t);
            }
        }
        meta.forEach((k, v) -> {
            if (!k.startsWith(PREFIX)) {
                model.metadata(k, v);
            }
        });
        Network net = ModelFile.fromSafeTensors(model.build(), source);
        try {
            int arrays = Integer.parseInt(need(meta, "optimizer_arrays", source));
            List<float[]> state = new ArrayList<>(arrays);
            for (int i = 0; i < arrays; i++) {
                state.add(st.tensor(stateName(i)).toFloatArray());
            }
            String hf = meta.get(PREFIX + "hessian_free");
            double[] hfScalars = null;
            if (hf != null) {
                String[] f = hf.split(",");
                hfScalars = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    hfScalars[i] = Double.parseDouble(f[i]);
                }
            }
            return new Checkpoint(net, Long.parseLong(need(meta, "step", source)),
                    Integer.parseInt(need(meta, "batch", source)), Long.parseLong(need(meta, "seed", source)),
                    need(meta, "optimizer", source), state, hfScalars,
                    Long.parseUnsignedLong(need(meta, "data", source), 16),
                    Integer.parseInt(need(meta, "micro_batches", source)),
                    Double.parseDouble(need(meta, "epoch_loss_sum", source)),
                    Double.parseDouble(need(meta, "epoch_seconds", source)),
                    History.decode(need(meta, "history", source)), meta.getOrDefault(PREFIX + "plan", ""));
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(source + ": malformed checkpoint metadata: " + e.getMessage());
        }
    }

    private static String need(Map<String, String> meta, String key, String source) throws SafeTensorsException {
        String v = meta.get(PREFIX + key);
        if (v == null) {
            throw new SafeTensorsException(source + ": checkpoint has no __metadata__ " + PREFIX + key);
        }
        return v;
    }

    static String stateName(int i) {
        return String.format(java.util.Locale.ROOT, "%soptimizer.%06d", PREFIX, i);
    }

    /** Writes this checkpoint atomically. */
    void write(Path path) throws IOException {
        // Views, not copies: a checkpoint of a model that fills the heap must not need a second one.
        SafeTensors st = ModelFile.toSafeTensors(network, true);
        SafeTensors.Builder b = SafeTensors.builder();
        st.tensors().values().forEach(b::put);
        st.metadata().forEach(b::metadata);
        for (int i = 0; i < optimizerState.size(); i++) {
            float[] a = optimizerState.get(i);
            b.putF32View(stateName(i), new long[] {a.length}, a);
        }
        b.metadata(PREFIX + "format", FORMAT);
        b.metadata(PREFIX + "step", Long.toString(step));
        b.metadata(PREFIX + "batch", Integer.toString(batch));
        b.metadata(PREFIX + "seed", Long.toString(seed));
        b.metadata(PREFIX + "optimizer", optimizer);
        b.metadata(PREFIX + "optimizer_arrays", Integer.toString(optimizerState.size()));
        if (hessianFree != null) {
            StringBuilder sb = new StringBuilder();
            for (double d : hessianFree) {
                sb.append(sb.length() == 0 ? "" : ",").append(Double.toHexString(d));
            }
            b.metadata(PREFIX + "hessian_free", sb.toString());
        }
        b.metadata(PREFIX + "data", Long.toHexString(dataFingerprint));
        b.metadata(PREFIX + "micro_batches", Integer.toString(microBatches));
        b.metadata(PREFIX + "epoch_loss_sum", Double.toHexString(epochLossSum));
        b.metadata(PREFIX + "epoch_seconds", Double.toHexString(epochSeconds));
        b.metadata(PREFIX + "history", History.encode(history));
        b.metadata(PREFIX + "plan", plan);
        b.build().write(path);
    }

    /** Answers the network as checkpointed (a new object; {@link Training#resume} copies its weights). */
    public Network network() {
        return network;
    }

    /** Answers the steps taken before the checkpoint. */
    public long step() {
        return step;
    }

    /** Answers the mini-batch size of the run. */
    public int batch() {
        return batch;
    }

    /** Answers the run's seed (shuffling, held-out split). */
    public long seed() {
        return seed;
    }

    /** Answers the optimizer with its hyperparameters, as its {@code toString()} printed it. */
    public String optimizer() {
        return optimizer;
    }

    /** Answers the history up to the checkpoint. */
    public History history() {
        return new History(history, false);
    }

    /** Answers the name of the plan the run used (informative: every plan gives the same bits). */
    public String plan() {
        return plan;
    }

    List<float[]> optimizerState() {
        return optimizerState;
    }

    double[] hessianFreeScalars() {
        return hessianFree;
    }

    long dataFingerprint() {
        return dataFingerprint;
    }

    int microBatches() {
        return microBatches;
    }

    double epochLossSum() {
        return epochLossSum;
    }

    double epochSeconds() {
        return epochSeconds;
    }

    List<History.Epoch> epochs() {
        return history;
    }

    /**
     * Copies the checkpoint's weights into {@code net}, which must have the same layers.
     *
     * @throws IllegalArgumentException naming the first layer that differs
     */
    void copyWeightsInto(Network net) {
        if (net.depth() != network.depth()) {
            throw new IllegalArgumentException("the checkpoint's network has " + network.depth() + " layers, this one "
                    + net.depth());
        }
        for (int l = 1; l <= net.depth(); l++) {
            Layer from = network.layer(l);
            Layer to = net.layer(l);
            if (!from.kind().equals(to.kind()) || !from.describe().equals(to.describe())
                    || from.inputWidth() != to.inputWidth() || from.outputWidth() != to.outputWidth()
                    || from.weights().length != to.weights().length || from.bias().length != to.bias().length) {
                throw new IllegalArgumentException("layer " + l + " is " + to.describe() + " " + to.inputWidth() + " -> "
                        + to.outputWidth() + " here but " + from.describe() + " " + from.inputWidth() + " -> "
                        + from.outputWidth() + " in the checkpoint");
            }
        }
        for (int l = 1; l <= net.depth(); l++) {
            System.arraycopy(network.layer(l).weights(), 0, net.layer(l).weights(), 0, net.layer(l).weights().length);
            System.arraycopy(network.layer(l).bias(), 0, net.layer(l).bias(), 0, net.layer(l).bias().length);
        }
    }
}
