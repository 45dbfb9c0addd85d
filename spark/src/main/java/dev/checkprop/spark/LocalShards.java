package dev.checkprop.spark;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The single-machine equivalent of {@link SparkShards}: the same shards, read, planned and run by
 * the same {@link ShardState} code in this JVM one after the other, and combined by the same rule.
 * All K shards stay built between calls, so each is planned for 1/K of the usable heap, as in a
 * local Spark executor (plans never change the bits). What the Spark results are checked against.
 */
public final class LocalShards extends ShardBackend {

    private final List<ShardState> states = new ArrayList<>();
    private final double setupSeconds;

    private LocalShards(Session s, Network net, byte[] model) throws IOException {
        super(s, net, model);
        long t0 = System.nanoTime();
        try {
            for (int j = 0; j < s.shards(); j++) {
                states.add(ShardState.create(s, j, model, null));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        setupSeconds = (System.nanoTime() - t0) / 1e9;
    }

    /** Answers the seconds spent reading the shards and building their executors, at {@link #open}. */
    public double setupSeconds() {
        return setupSeconds;
    }

    /**
     * Opens K shards of a safetensors data file for {@code model}; see
     * {@link #open(byte[], DataFile, Loss, String, int, StateModel.Mode, int, int, long)}.
     */
    public static LocalShards open(byte[] model, String data, Loss loss, String plan, int shards, StateModel.Mode mode,
                                   int threads, int miniBatch, long seed) throws IOException {
        return open(model, DataFile.safetensors(data), loss, plan, shards, mode, threads, miniBatch, seed);
    }

    /**
     * Opens K shards of {@code data} for {@code model}.
     *
     * @param miniBatch rows per shard per step (0: every row, every step)
     */
    public static LocalShards open(byte[] model, DataFile data, Loss loss, String plan, int shards, StateModel.Mode mode,
                                   int threads, int miniBatch, long seed) throws IOException {
        if (shards < 1) {
            throw new IllegalArgumentException("--partitions must be >= 1, got " + shards);
        }
        Network net = ModelFile.fromSafeTensors(SafeTensors.read(model, "the model"), "the model");
        ShardData rows = data.open(loss, shards);
        Session s = new Session(UUID.randomUUID().toString(), rows, loss, plan, shards, rows.rows(), mode, threads, shards,
                miniBatch, seed);
        return new LocalShards(s, net, model);
    }

    @Override
    List<ShardResult> run(long step, float[] direction, boolean wantGradient) {
        long t0 = System.nanoTime();
        float[] params = Flat.of(net);
        long t1 = System.nanoTime();
        List<ShardResult> out = new ArrayList<>(states.size());
        for (ShardState st : states) {
            out.add(st.run(version, params, step, direction, wantGradient));
        }
        long t2 = System.nanoTime();
        double compute = 0;
        for (ShardResult r : out) {
            compute += r.nanos() / 1e9;
        }
        timing(new Timing((t1 - t0) / 1e9, 0, compute, Math.max(0, (t2 - t1) / 1e9 - compute), 0, (t2 - t0) / 1e9));
        return out;
    }

    @Override
    public void close() {
        for (ShardState st : states) {
            st.close();
        }
        states.clear();
    }
}
