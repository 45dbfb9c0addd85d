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
            losses[side] = new double[6];
            weights[side] = adam(side == 0
                    ? LocalShards.open(m, regression.toString(), Loss.MSE, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1)
                    : SparkShards.open(sc, m, regression.toString(), Loss.MSE, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1),
                    losses[side]);
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

    /** Adam steps, full batch, as many as {@code losses} has room for; answers the final weights. */
    static float[] adam(ShardBackend b, double[] losses) {
        try (b) {
            Adam adam = new Adam(b.network(), LearningRate.constant(1e-2));
            Gradients g = Gradients.zerosLike(b.network());
            for (int s = 0; s < losses.length; s++) {
                losses[s] = b.gradient(g, s);
                adam.step(g, s);
                b.parametersChanged();
            }
            return Flat.of(b.network());
        }
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
    @Order(20)
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
        // The user's RDD too, rebuilt on this context.
        byte[] m = Files.readAllBytes(model);
        Batch b = ModelFile.loadData(regression, Loss.MSE);
        try (SparkShards rdd = SparkShards.open(sc, m, samples(b, 4), Loss.MSE, "sqrt", StateModel.Mode.GRADIENT, 1, 0, 1)) {
            assertArrayEquals(LOCAL2.get("spark-mse-4-sqrt.safetensors"), gradientFile(rdd, "one-rdd.safetensors"), "RDD");
        }
    }

    // ---- Data formats: every format train --data reads, read by row range inside the partitions ----

    static byte[] le(int bytesPerValue, int n, java.util.function.IntFunction<Long> value) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n * bytesPerValue).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            long v = value.apply(i);
            switch (bytesPerValue) {
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    /** F16 bit patterns: random signs and mantissas, exponents 2^-3 .. 2^1 (normal values). */
    static long f16(int i, long stream) {
        long r = Seeds.mix(stream * 1_000_003L + i);
        return (r & 0x8000) | ((12 + (r >>> 16) % 5) << 10) | ((r >>> 24) & 0x3ff);
    }

    static long bf16(int i, long stream) {
        return Float.floatToRawIntBits(2f * Seeds.uniform(23, stream, i) - 1f) >>> 16;
    }

    static long f64(int i, long stream) {
        // Not exact in float: the conversion rounds.
        return Double.doubleToRawLongBits(Math.sin(i * 0.37 + stream) * 0.9);
    }

    /** A 30-row data file with x and y (or I64 labels) in the given dtypes. */
    static Path typed(String name, dev.checkprop.io.DType dtype, boolean labels) throws IOException {
        int w = dtype.byteSize();
        java.util.function.BiFunction<Integer, Long, Long> v = switch (dtype) {
            case F16 -> (i, st) -> f16(i, st);
            case BF16 -> (i, st) -> bf16(i, st);
            default -> (i, st) -> f64(i, st);
        };
        SafeTensors.Builder b = SafeTensors.builder()
                .put(dev.checkprop.io.Tensor.of("x", dtype, new long[] {30, 6}, le(w, 180, i -> v.apply(i, 1L))));
        if (labels) {
            b.putI64("labels", new long[] {30}, java.util.stream.LongStream.range(0, 30).map(i -> (i * 5) % 3).toArray());
        } else {
            b.put(dev.checkprop.io.Tensor.of("y", dtype, new long[] {30, 3}, le(w, 90, i -> v.apply(i, 2L))));
        }
        Path p = dir.resolve(name);
        b.build().write(p);
        return p;
    }

    /** The 30 regression rows as CSV: a header, a blank line, CRLF endings, Float.toString values. */
    static Path csv(String name, Batch b) throws IOException {
        StringBuilder t = new StringBuilder("a,b,c,d,e,f" + (b.labels() != null ? ",label" : ",y1,y2,y3") + "\r\n\r\n");
        for (int r = 0; r < b.size(); r++) {
            for (int c = 0; c < 6; c++) {
                t.append(b.inputs()[r * 6 + c]).append(',');
            }
            if (b.labels() != null) {
                t.append(b.labels()[r]);
            } else {
                t.append(b.targets()[r * 3]).append(", ").append(b.targets()[r * 3 + 1]).append(",\"")
                        .append(b.targets()[r * 3 + 2]).append('"');
            }
            t.append(r % 2 == 0 ? "\r\n" : "\n");
        }
        Path p = dir.resolve(name);
        Files.writeString(p, t);
        return p;
    }

    /** IDX files: 30 unsigned-byte images of 2 x 3 pixels and their labels. */
    static Path[] idx(String name) throws IOException {
        java.io.ByteArrayOutputStream img = new java.io.ByteArrayOutputStream();
        img.writeBytes(new byte[] {0, 0, 0x08, 3, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0, 0, 3});
        for (int i = 0; i < 180; i++) {
            img.write((int) (Seeds.mix(7_000_000L + i) & 0xff));
        }
        java.io.ByteArrayOutputStream lab = new java.io.ByteArrayOutputStream();
        lab.writeBytes(new byte[] {0, 0, 0x08, 1, 0, 0, 0, 30});
        for (int i = 0; i < 30; i++) {
            lab.write((i * 11) % 3);
        }
        Path[] p = {dir.resolve(name + "-images.idx"), dir.resolve(name + "-labels.idx")};
        Files.write(p[0], img.toByteArray());
        Files.write(p[1], lab.toByteArray());
        return p;
    }

    /** grad --shards K's file for a batch the library's own loader read (what the CLI computes after loading). */
    static byte[] shardedFile(Batch batch, Loss loss, int k, String name) throws IOException {
        Network net = ModelFile.load(model);
        Gradients g = Gradients.zerosLike(net);
        double l = ShardedGradient.gradient(net, batch, loss, "full", k, 1, 0, "data", g);
        Path out = dir.resolve(name);
        ModelFile.gradientsToSafeTensors(net, g, l).write(out);
        return Files.readAllBytes(out);
    }

    static byte[] gradientFile(ShardBackend b, String name) throws IOException {
        return gradientFile(b, dir.resolve(name));
    }

    static byte[] gradientFile(ShardBackend b, Path out) throws IOException {
        Gradients g = Gradients.zerosLike(b.network());
        double l = b.gradient(g, 0);
        ModelFile.gradientsToSafeTensors(b.network(), g, l).write(out);
        return Files.readAllBytes(out);
    }

    /**
     * Safetensors in F16, BF16, F64 (x and y) and I64 labels, CSV (regression with --targets and
     * classification by the last column) and IDX: Spark with K partitions writes the file
     * {@code grad --shards K} writes with the same data options, byte for byte, K = 4 and 7; and that
     * is the engine's file on what the library's loader reads.
     */
    @Test
    @Order(8)
    void everyDataFormatIsReadByRowRangeWithTheSingleMachineBits() throws IOException {
        Map<String, String[]> spark = new TreeMap<>();
        Map<String, Batch> single = new TreeMap<>();
        for (dev.checkprop.io.DType t : new dev.checkprop.io.DType[] {dev.checkprop.io.DType.F16, dev.checkprop.io.DType.BF16,
                dev.checkprop.io.DType.F64}) {
            Path p = typed("typed-" + t + ".safetensors", t, false);
            spark.put(t + " mse", new String[] {"--data", p.toString(), "--loss", "mse"});
            single.put(t + " mse", ModelFile.loadData(p, Loss.MSE));
        }
        Path labels64 = typed("typed-labels.safetensors", dev.checkprop.io.DType.F16, true);
        spark.put("I64 softmax-ce", new String[] {"--data", labels64.toString(), "--loss", "softmax-ce"});
        single.put("I64 softmax-ce", ModelFile.loadData(labels64, Loss.SOFTMAX_CROSS_ENTROPY));
        Path reg = csv("reg.csv", ModelFile.loadData(regression, Loss.MSE));
        spark.put("csv mse", new String[] {"--data", reg.toString(), "--targets", "3", "--loss", "mse"});
        single.put("csv mse", dev.checkprop.data.CsvLoader.regression(3).load(reg).toBatch());
        Path cls = csv("cls.csv", ModelFile.loadData(labelled, Loss.SOFTMAX_CROSS_ENTROPY));
        spark.put("csv softmax-ce", new String[] {"--data", cls.toString(), "--loss", "softmax-ce"});
        single.put("csv softmax-ce", dev.checkprop.data.CsvLoader.classification(-1).load(cls).toBatch());
        Path[] idx = idx("mnistlike");
        spark.put("idx softmax-ce", new String[] {"--data", idx[0].toString(), "--idx-labels", idx[1].toString(),
                "--loss", "softmax-ce"});
        single.put("idx softmax-ce", dev.checkprop.data.IdxLoader.loadImagesAndLabels(idx[0], idx[1], true).toBatch());
        for (Map.Entry<String, String[]> e : spark.entrySet()) {
            String what = e.getKey();
            Loss loss = Loss.parse(what.substring(what.indexOf(' ') + 1));
            assertEquals(30, single.get(what).size(), what);
            for (int k : new int[] {4, 7}) {
                byte[] expected = shardedFile(single.get(what), loss, k, "single-" + what.replace(' ', '-') + k + ".safetensors");
                Path c = dir.resolve("cli-" + what.replace(' ', '-') + k + ".safetensors");
                Run cl = cli(concat(new String[] {"grad", "--model", model.toString(), "--plan", "sqrt", "--shards",
                        Integer.toString(k), "--out", c.toString(), "--threads", "1"}, e.getValue()));
                assertEquals(0, cl.code(), what + ": " + cl.err());
                assertArrayEquals(expected, Files.readAllBytes(c), what + ": the CLI");
                Path out = dir.resolve("spark-" + what.replace(' ', '-') + k + ".safetensors");
                Run r = spark(concat(new String[] {"grad", "--model", model.toString(), "--plan", "sqrt", "--partitions",
                        Integer.toString(k), "--out", out.toString()}, e.getValue()));
                assertEquals(0, r.code(), what + ": " + r.err());
                assertArrayEquals(expected, Files.readAllBytes(out), what + ", " + k + " partitions");
            }
        }
        // What the F16 file holds is not what the F32 file holds: the test data went through a conversion.
        assertTrue(single.get("F16 mse").inputs()[0] != ModelFile.loadData(regression, Loss.MSE).inputs()[0]);
    }

    /** Corrupt data in each new format fails with one line naming the file and the rows (or line). */
    @Test
    @Order(9)
    void corruptDataInEachFormatNamesTheFileAndRows() throws IOException {
        String[] grad = {"grad", "--model", model.toString(), "--plan", "sqrt", "--partitions", "4", "--out",
                dir.resolve("never.safetensors").toString()};
        // F16: a NaN at row 21, in shard 2 (rows 16..23).
        byte[] x = le(2, 180, i -> f16(i, 1));
        x[2 * (21 * 6 + 4)] = 0x00;
        x[2 * (21 * 6 + 4) + 1] = 0x7e;
        Path f16 = dir.resolve("bad16.safetensors");
        SafeTensors.builder().put(dev.checkprop.io.Tensor.of("x", dev.checkprop.io.DType.F16, new long[] {30, 6}, x))
                .putF32("y", new long[] {30, 3}, uniform(90, 2)).build().write(f16);
        Run r = spark(concat(grad, "--data", f16.toString(), "--loss", "mse"));
        assertEquals(2, r.code(), r.out());
        assertEquals("error: shard 2 of 4 (rows 16..23 of " + f16 + "): x[21, 4] is NaN: values must be finite", r.err().strip());
        // F64 beyond float range, at row 9 (shard 1).
        Path f64 = dir.resolve("bad64.safetensors");
        SafeTensors.builder().put(dev.checkprop.io.Tensor.of("x", dev.checkprop.io.DType.F64, new long[] {30, 6},
                        le(8, 180, i -> i == 9 * 6 ? Double.doubleToRawLongBits(1e300) : f64(i, 1))))
                .putF32("y", new long[] {30, 3}, uniform(90, 2)).build().write(f64);
        r = spark(concat(grad, "--data", f64.toString(), "--loss", "mse"));
        assertEquals("error: shard 1 of 4 (rows 8..15 of " + f64 + "): tensor \"x\" (F64) value 1.0E300 at flat index 54 is"
                + " beyond the F32 range (largest magnitude 3.4028235E38): it cannot be converted to F32", r.err().strip());
        // An I64 label outside int range, row 25 (shard 3).
        Path i64 = dir.resolve("bad-labels.safetensors");
        SafeTensors.builder().putF32("x", new long[] {30, 6}, uniform(180, 1))
                .putI64("labels", new long[] {30}, java.util.stream.LongStream.range(0, 30).map(i -> i == 25 ? 1L << 40 : i % 3)
                        .toArray()).build().write(i64);
        r = spark(concat(grad, "--data", i64.toString(), "--loss", "softmax-ce"));
        assertEquals("error: shard 3 of 4 (rows 24..29 of " + i64 + "): tensor \"labels\" (I64) value 1099511627776 at flat"
                + " index 25 is outside int range", r.err().strip());
        // CSV: the driver's index pass checks every value, with the single-machine loader's message.
        Batch b = ModelFile.loadData(regression, Loss.MSE);
        Path bad = csv("bad.csv", b);
        Files.writeString(bad, Files.readString(bad).replace(Float.toString(b.inputs()[17 * 6 + 2]), "0x1p3"));
        String single = org.junit.jupiter.api.Assertions.assertThrows(dev.checkprop.data.DataFormatException.class,
                () -> dev.checkprop.data.CsvLoader.regression(3).load(bad)).getMessage();
        assertEquals(bad + " line 20, column 3: '0x1p3' is not a number", single);
        r = spark(concat(grad, "--data", bad.toString(), "--targets", "3", "--loss", "mse"));
        assertEquals("error: " + single, r.err().strip());
        // CSV changed after the driver indexed it: the partition names its shard, rows and line.
        byte[] m = Files.readAllBytes(model);
        Path changing = csv("changing.csv", b);
        try (SparkShards s = SparkShards.open(sc, m, DataFile.csv(changing.toString(), 3), Loss.MSE, "sqrt", 4,
                StateModel.Mode.GRADIENT, 1, 0, 1)) {
            Files.writeString(changing, Files.readString(changing).replace(Float.toString(b.inputs()[26 * 6]), "x"));
            SparkShards.ShardFailure f = org.junit.jupiter.api.Assertions.assertThrows(SparkShards.ShardFailure.class,
                    () -> s.gradient(Gradients.zerosLike(s.network()), 0));
            assertEquals("shard 3 of 4 (rows 24..29 of " + changing + "): " + changing + " line 29, column 1: 'x' is not a number",
                    f.getMessage());
        }
        // IDX: a labels file that disagrees with the images, the single-machine loader's message from the driver...
        Path[] idx = idx("badidx");
        byte[] labels = Files.readAllBytes(idx[1]);
        Files.write(idx[1], Arrays.copyOf(labels, labels.length - 1));
        single = org.junit.jupiter.api.Assertions.assertThrows(dev.checkprop.data.DataFormatException.class,
                () -> dev.checkprop.data.IdxLoader.loadImagesAndLabels(idx[0], idx[1], true)).getMessage();
        r = spark(concat(grad, "--data", idx[0].toString(), "--idx-labels", idx[1].toString(), "--loss", "softmax-ce"));
        assertEquals("error: " + single, r.err().strip());
        // ... and images truncated after the driver checked them: the partition names its shard and rows.
        Files.write(idx[1], labels);
        try (SparkShards s = SparkShards.open(sc, m, DataFile.idx(idx[0].toString(), idx[1].toString()),
                Loss.SOFTMAX_CROSS_ENTROPY, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1)) {
            byte[] images = Files.readAllBytes(idx[0]);
            Files.write(idx[0], Arrays.copyOf(images, images.length - 6));
            SparkShards.ShardFailure f = org.junit.jupiter.api.Assertions.assertThrows(SparkShards.ShardFailure.class,
                    () -> s.gradient(Gradients.zerosLike(s.network()), 0));
            assertTrue(f.getMessage().matches("shard \\d of 4 \\(rows \\d+\\.\\.\\d+ of " + java.util.regex.Pattern.quote(
                    idx[0].toString()) + "\\): " + java.util.regex.Pattern.quote(idx[0].toString())
                    + " offset 16: the header declares \\[30, 2, 3\\] ubyte values = 180 bytes of data, but the file has 174"
                    + " bytes after the 16-byte header \\(truncated\\)"), f.getMessage());
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    // ---- The user's own RDD ----

    /** The batch's rows as an RDD of K partitions holding the rows of grad --shards K's shards. */
    static org.apache.spark.api.java.JavaRDD<Sample> samples(Batch b, int k) {
        return samples(sc, b, k);
    }

    static org.apache.spark.api.java.JavaRDD<Sample> samples(JavaSparkContext sc, Batch b, int k) {
        java.util.List<java.util.List<Sample>> parts = new java.util.ArrayList<>();
        for (int j = 0; j < k; j++) {
            java.util.List<Sample> part = new java.util.ArrayList<>();
            for (int r = Shards.from(b.size(), k, j); r < Shards.to(b.size(), k, j); r++) {
                float[] x = Arrays.copyOfRange(b.inputs(), r * b.inputWidth(), (r + 1) * b.inputWidth());
                part.add(b.labels() != null ? Sample.of(x, b.labels()[r])
                        : Sample.of(x, Arrays.copyOfRange(b.targets(), r * b.targetWidth(), (r + 1) * b.targetWidth())));
            }
            parts.add(part);
        }
        // One list per partition, flattened in place: partition j holds exactly shard j's rows, in order.
        org.apache.spark.api.java.JavaRDD<Sample> rdd = sc.parallelize(parts, k).flatMap(java.util.List::iterator);
        return rdd.persist(org.apache.spark.storage.StorageLevel.MEMORY_ONLY());
    }

    /** An RDD with a file's rows and shard boundaries gives the file's bits: gradients, Adam and Hessian-free. */
    @Test
    @Order(10)
    void anRddWithTheFilesPartitionsGivesTheFilesBits() throws IOException {
        byte[] m = Files.readAllBytes(model);
        Batch reg = ModelFile.loadData(regression, Loss.MSE);
        Batch lab = ModelFile.loadData(labelled, Loss.SOFTMAX_CROSS_ENTROPY);
        for (int k : new int[] {4, 7}) {
            try (SparkShards s = SparkShards.open(sc, m, samples(reg, k), Loss.MSE, "sqrt", StateModel.Mode.GRADIENT, 1, 0, 1)) {
                assertEquals(k, s.shards());
                assertEquals(30, s.rows());
                assertArrayEquals(LOCAL2.get("spark-mse-" + k + "-sqrt.safetensors"), gradientFile(s, "rdd.safetensors"),
                        "mse, " + k);
            }
            try (SparkShards s = SparkShards.open(sc, m, samples(lab, k), Loss.SOFTMAX_CROSS_ENTROPY, "auto",
                    StateModel.Mode.GRADIENT, 1, 0, 1)) {
                assertArrayEquals(LOCAL2.get("spark-softmax-ce-" + k + "-auto.safetensors"), gradientFile(s, "rdd.safetensors"),
                        "softmax-ce, " + k);
            }
        }
        // Adam, 3 steps: the RDD's trajectory is the file's.
        float[][] w = new float[2][];
        double[][] losses = new double[2][3];
        for (int side = 0; side < 2; side++) {
            w[side] = adam(side == 0
                    ? SparkShards.open(sc, m, regression.toString(), Loss.MSE, "sqrt", 4, StateModel.Mode.GRADIENT, 1, 0, 1)
                    : SparkShards.open(sc, m, samples(reg, 4), Loss.MSE, "sqrt", StateModel.Mode.GRADIENT, 1, 0, 1),
                    losses[side]);
        }
        assertArrayEquals(bits(losses[0]), bits(losses[1]), "Adam losses");
        assertArrayEquals(bits(w[0]), bits(w[1]), "Adam weights");
        // Hessian-free, 4 steps: the RDD's against the file's.
        HessianFree.Settings settings = HessianFree.Settings.defaults().withMaxCgIterations(4);
        float[][] hw = new float[2][];
        double[] file = hessianFree(SparkShards.open(sc, m, regression.toString(), Loss.MSE, "full", 4,
                StateModel.Mode.CURVATURE, 1, 0, 1), settings, x -> hw[0] = x);
        double[] rdd = hessianFree(SparkShards.open(sc, m, samples(reg, 4), Loss.MSE, "full", StateModel.Mode.CURVATURE,
                1, 0, 1), settings, x -> hw[1] = x);
        assertArrayEquals(bits(file), bits(rdd), "Hessian-free losses");
        assertArrayEquals(bits(hw[0]), bits(hw[1]), "Hessian-free weights");
    }

    /** Bad samples in an RDD: the partition names its shard, the RDD and the row. */
    @Test
    @Order(11)
    void aBadSampleInAnRddNamesTheShardAndRow() throws IOException {
        byte[] m = Files.readAllBytes(model);
        java.util.List<Sample> rows = new java.util.ArrayList<>();
        for (int r = 0; r < 12; r++) {
            rows.add(Sample.of(uniform(6, r), r == 10 ? new float[] {0, Float.POSITIVE_INFINITY, 0} : uniform(3, 100 + r)));
        }
        org.apache.spark.api.java.JavaRDD<Sample> rdd = sc.parallelize(rows, 3).setName("bad samples");
        try (SparkShards s = SparkShards.open(sc, m, rdd, Loss.MSE, "sqrt", StateModel.Mode.GRADIENT, 1, 0, 1)) {
            SparkShards.ShardFailure f = org.junit.jupiter.api.Assertions.assertThrows(SparkShards.ShardFailure.class,
                    () -> s.gradient(Gradients.zerosLike(s.network()), 0));
            assertEquals("shard 2 of 3 (rows 8..11 of RDD " + rdd.id() + " (bad samples)): y[10, 1] is Infinity: values must"
                    + " be finite", f.getMessage());
        }
        try (SparkShards s = SparkShards.open(sc, m, rdd, Loss.SOFTMAX_CROSS_ENTROPY, "sqrt", StateModel.Mode.GRADIENT, 1, 0,
                1)) {
            SparkShards.ShardFailure f = org.junit.jupiter.api.Assertions.assertThrows(SparkShards.ShardFailure.class,
                    () -> s.gradient(Gradients.zerosLike(s.network()), 0));
            assertTrue(f.getMessage().matches("shard \\d of 3 \\(rows \\d+\\.\\.\\d+ of RDD \\d+ \\(bad samples\\)\\): row \\d+ has"
                    + " targets y, not a label: loss softmax-ce needs labelled samples \\(Sample.of\\(x, label\\)\\)"),
                    f.getMessage());
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
