package dev.checkprop.spark;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.Shards;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Planners;
import dev.checkprop.train.Adam;
import dev.checkprop.train.HessianFree;
import dev.checkprop.train.LearningRate;
import dev.checkprop.train.ShardedGradient;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark module on one shared local[2] context (local[1] last): gradients bit-identical to
 * {@code grad --shards K}, training bit-identical to the same shards on this machine, and the
 * failures a shard reports.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkShardsTest {

    static JavaSparkContext sc;
    static Path dir;
    static Path model;
    static Path regression;
    static Path labelled;
    /** Gradient files of local[2], by name, for the local[1] comparison. */
    static final Map<String, byte[]> LOCAL2 = new TreeMap<>();

    static JavaSparkContext context(String master) {
        SparkConf conf = new SparkConf().setAppName("checkprop-test").setMaster(master)
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        return new JavaSparkContext(conf);
    }

    static float[] uniform(int n, long stream) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2f * Seeds.uniform(17, stream, i) - 1f;
        }
        return a;
    }

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("checkprop-spark-test");
        Network net = Network.builder(6).dense(16, 12, Activation.TANH).dense(3, Activation.IDENTITY).build(11);
        model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        regression = dir.resolve("reg.safetensors");
        ModelFile.saveData(Batch.regression(uniform(30 * 6, 1), 6, uniform(30 * 3, 2), 3), regression);
        labelled = dir.resolve("lab.safetensors");
        int[] labels = new int[30];
        Arrays.setAll(labels, i -> (i * 7) % 3);
        ModelFile.saveData(Batch.classification(uniform(30 * 6, 3), 6, labels), labelled);
        sc = context("local[2]");
    }

    @AfterAll
    static void stop() throws IOException {
        if (sc != null) {
            sc.close();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    record Run(int code, String out, String err) {
    }

    static Run spark(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = SparkMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true), sc);
        return new Run(code, out.toString(), err.toString());
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = dev.checkprop.cli.Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static final String[] PLANS = {"full", "sqrt", "auto", "binomial:3"};

    /** Spark with K partitions writes the file {@code grad --shards K} writes, byte for byte. */
    @Test
    @Order(1)
    void sparkGradientFilesAreTheShardedCliFiles() throws IOException {
        for (Path data : new Path[] {regression, labelled}) {
            String loss = data == regression ? "mse" : "softmax-ce";
            for (int k : new int[] {4, 7}) {
                Path cliOut = dir.resolve("cli-" + loss + "-" + k + ".safetensors");
                Run c = cli("grad", "--model", model.toString(), "--data", data.toString(), "--loss", loss, "--plan", "full",
                        "--shards", Integer.toString(k), "--out", cliOut.toString(), "--threads", "1");
                assertEquals(0, c.code(), c.err());
                byte[] expected = Files.readAllBytes(cliOut);
                for (String plan : PLANS) {
                    Path out = dir.resolve("spark-" + loss + "-" + k + "-" + plan.replace(':', '_') + ".safetensors");
                    Run r = spark("grad", "--model", model.toString(), "--data", data.toString(), "--loss", loss,
                            "--plan", plan, "--partitions", Integer.toString(k), "--out", out.toString());
                    assertEquals(0, r.code(), r.err());
                    assertTrue(r.out().startsWith(k + " partitions on local[2]: loss "), r.out());
                    byte[] got = Files.readAllBytes(out);
                    assertArrayEquals(expected, got, loss + ", " + k + " partitions, plan " + plan);
                    LOCAL2.put(out.getFileName().toString(), got);
                }
            }
        }
        // 7 partitions of 30 rows: six of 5 and an empty seventh, which adds nothing.
        assertEquals(6, Shards.count(30, 7));
    }

    /** Adam, full batch: the Spark trajectory is the local shards' one, losses and final weights bit for bit. */
    @Test
    @Order(2)
    void adamOnSparkFollowsTheSingleMachineTrajectory() throws IOException {
        byte[] m = Files.readAllBytes(model);
        double[][] losses = new double[2][];
        float[][] weights = new float[2][];
        for (int side = 0; side < 2; side++) {
            try (ShardBackend b = side == 0
                    ? LocalShards.open(m, regression.toString(), Loss.MSE, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1)
                    : SparkShards.open(sc, m, regression.toString(), Loss.MSE, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1)) {
                Adam adam = new Adam(b.network(), LearningRate.constant(1e-2));
                Gradients g = Gradients.zerosLike(b.network());
                losses[side] = new double[6];
                for (int s = 0; s < 6; s++) {
                    losses[side][s] = b.gradient(g, s);
                    adam.step(g, s);
                    b.parametersChanged();
                }
                weights[side] = Flat.of(b.network());
            }
        }
        assertArrayEquals(bits(losses[0]), bits(losses[1]), "losses");
        assertArrayEquals(bits(weights[0]), bits(weights[1]), "final weights");
        assertTrue(losses[0][5] < losses[0][0], Arrays.toString(losses[0]));
        // The local shards' gradient is grad --shards K's (the library's engine), step 0.
        Network net = ModelFile.load(model);
        Gradients g = Gradients.zerosLike(net);
        double l0 = ShardedGradient.gradient(net, ModelFile.loadData(regression, Loss.MSE), Loss.MSE, "full", 4, 1, 0, "x", g);
        assertEquals(Double.doubleToLongBits(l0), Double.doubleToLongBits(losses[0][0]));
    }

    /** SGD on per-shard mini-batches through the command line: Spark and --local print the same losses. */
    @Test
    @Order(3)
    void sgdMiniBatchesOnSparkFollowTheSingleMachineTrajectory() {
        String[] args = {"train", "--model", model.toString(), "--data", labelled.toString(), "--loss", "softmax-ce",
                "--plan", "auto", "--partitions", "3", "--optimizer", "sgd", "--lr", "0.1", "--steps", "4",
                "--batch-per-shard", "4", "--seed", "5"};
        Run s = spark(args);
        assertEquals(0, s.code(), s.err());
        String[] local = Arrays.copyOf(args, args.length + 1);
        local[args.length] = "--local";
        Run l = spark(local);
        assertEquals(0, l.code(), l.err());
        assertEquals(losses(l.out()), losses(s.out()));
        assertEquals(4, losses(s.out()).split("\n").length, s.out());
    }

    /** Hessian-free: one shard locally is the library's HessianFree; 4 Spark partitions are 4 local shards. */
    @Test
    @Order(4)
    void hessianFreeOnSparkFollowsTheSingleMachineTrajectory() throws IOException {
        byte[] m = Files.readAllBytes(model);
        HessianFree.Settings settings = HessianFree.Settings.defaults().withMaxCgIterations(6);
        // The library's optimizer on the whole batch, in file order.
        Network net = ModelFile.load(model);
        Batch batch = ModelFile.loadData(regression, Loss.MSE);
        double[] library = new double[4];
        try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), batch.size(),
                Kernels.get(), 1)) {
            HessianFree hf = new HessianFree(ex, Loss.MSE, settings);
            for (int s = 0; s < 4; s++) {
                library[s] = hf.step(batch, s).trialLoss();
            }
        }
        double[] one = hessianFree(LocalShards.open(m, regression.toString(), Loss.MSE, "sqrt", 1,
                StateModel.Mode.CURVATURE, 1, 0, 1), settings, null);
        assertArrayEquals(bits(library), bits(one), "one local shard against train.HessianFree");
        float[][] w = new float[2][];
        double[] local = hessianFree(LocalShards.open(m, regression.toString(), Loss.MSE, "full", 4,
                StateModel.Mode.CURVATURE, 1, 0, 1), settings, x -> w[0] = x);
        double[] spark = hessianFree(SparkShards.open(sc, m, regression.toString(), Loss.MSE, "auto", 4,
                StateModel.Mode.CURVATURE, 1, 0, 1), settings, x -> w[1] = x);
        assertArrayEquals(bits(local), bits(spark), "4 shards: local against Spark (trial losses)");
        assertArrayEquals(bits(w[0]), bits(w[1]), "4 shards: final weights");
        assertTrue(spark[3] < spark[0], Arrays.toString(spark));
    }

    static double[] hessianFree(ShardBackend b, HessianFree.Settings settings, Consumer<float[]> weights) {
        try (b) {
            ShardedHessianFree hf = new ShardedHessianFree(b, settings);
            double[] out = new double[4];
            for (int s = 0; s < 4; s++) {
                out[s] = hf.step(s).trialLoss();
            }
            if (weights != null) {
                weights.accept(Flat.of(b.network()));
            }
            return out;
        }
    }

    /** A NaN in the file: the partition that reads it fails, naming the file and its rows. */
    @Test
    @Order(5)
    void aCorruptShardNamesTheFileAndRows() throws IOException {
        float[] x = uniform(30 * 6, 1);
        x[20 * 6 + 1] = Float.NaN;
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.builder().putF32("x", new long[] {30, 6}, x)
                .putF32("y", new long[] {30, 3}, uniform(30 * 3, 2)).build().write(bad);
        Run r = spark("grad", "--model", model.toString(), "--data", bad.toString(), "--loss", "mse", "--plan", "sqrt",
                "--partitions", "4", "--out", dir.resolve("never.safetensors").toString());
        assertEquals(2, r.code(), r.out());
        assertEquals("error: shard 2 of 4 (rows 16..23 of " + bad + "): x[20, 1] is NaN: values must be finite",
                r.err().strip());
        assertTrue(Files.notExists(dir.resolve("never.safetensors")));
    }

    /** A shard larger than its share of the executor's heap is refused before any allocation, with the pre-flight message. */
    @Test
    @Order(6)
    void aShardThatDoesNotFitItsHeapFailsWithThePreflightMessage() throws IOException {
        Network deep = Network.builder(4).dense(500, 64, Activation.TANH).dense(2, Activation.IDENTITY).build(3);
        Path deepModel = dir.resolve("deep.safetensors");
        ModelFile.save(deep, deepModel);
        Path big = dir.resolve("big.safetensors");
        ModelFile.saveData(Batch.regression(uniform(16000 * 4, 5), 4, uniform(16000 * 2, 6), 2), big);
        Run r = spark("grad", "--model", deepModel.toString(), "--data", big.toString(), "--loss", "mse", "--plan", "full",
                "--partitions", "4", "--out", dir.resolve("never.safetensors").toString());
        assertEquals(2, r.code(), r.out());
        int p = Flat.count(deep);
        String expected;
        try {
            ShardedGradient.select("full", deep, 4000, false, new long[] {p, p, p}, StateModel.Mode.GRADIENT,
                    HeapBudget.usable() / 4, ShardedGradient.name(0, 4, 0, 4000, big.toString()));
            throw new AssertionError("the shard fits after all");
        } catch (IllegalStateException e) {
            expected = e.getMessage();
        }
        assertTrue(expected.contains("plan full needs"), expected);
        // Whichever partition fails first is named; all four have 4000 rows.
        assertEquals(expected.replaceFirst("shard 0 of 4 \\(rows 0\\.\\.3999", ""),
                r.err().strip().replaceFirst("error: shard \\d of 4 \\(rows \\d+\\.\\.\\d+", ""));
    }

    /** The same jobs on local[1] give the files of local[2]. */
    @Test
    @Order(7)
    void localOneGivesTheBitsOfLocalTwo() throws IOException {
        sc.close();
        sc = context("local[1]");
        assertEquals(16, LOCAL2.size());
        for (Path data : new Path[] {regression, labelled}) {
            String loss = data == regression ? "mse" : "softmax-ce";
            for (String plan : new String[] {"sqrt", "auto"}) {
                String name = "spark-" + loss + "-4-" + plan + ".safetensors";
                Path out = dir.resolve("one-" + name);
                Run r = spark("grad", "--model", model.toString(), "--data", data.toString(), "--loss", loss,
                        "--plan", plan, "--partitions", "4", "--out", out.toString());
                assertEquals(0, r.code(), r.err());
                assertArrayEquals(LOCAL2.get(name), Files.readAllBytes(out), name);
            }
        }
    }

    static String losses(String out) {
        StringBuilder b = new StringBuilder();
        for (String line : out.split("\n")) {
            if (line.startsWith("step ")) {
                b.append(line, 0, line.indexOf(" job")).append('\n');
            }
        }
        return b.toString();
    }

    static long[] bits(double[] a) {
        return Arrays.stream(a).mapToLong(Double::doubleToRawLongBits).toArray();
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }
}
