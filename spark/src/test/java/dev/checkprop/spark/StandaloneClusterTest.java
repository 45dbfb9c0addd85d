package dev.checkprop.spark;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A standalone cluster on loopback: Spark's {@code local-cluster[2,1,1024]} master URL starts a
 * standalone Master and two Workers in this JVM, and each Worker launches its executor as a JVM of
 * its own, as on a real cluster. The gradients, from a file and from an RDD, are the bytes of
 * {@code grad --shards K}. Off by default (it starts two more JVMs): {@code mvn -B -f spark/pom.xml
 * -Pcluster verify} runs it, and only it. The profile sets what Spark's in-process Workers need to
 * build an executor's command outside a Spark distribution: {@code SPARK_TESTING=1} and
 * {@code SPARK_SCALA_VERSION} (the executors then get this JVM's class path, through the
 * {@code spark.testing} property set here) and {@code spark.test.home} (their work directory).
 */
class StandaloneClusterTest {

    @Test
    void twoExecutorJvmsOnAStandaloneClusterGiveTheBitsOfGradShards() throws IOException {
        Path dir = Files.createTempDirectory("checkprop-cluster-test");
        Path home = Path.of("target", "spark-home").toAbsolutePath();
        Files.createDirectories(home);
        System.setProperty("spark.testing", "1");
        System.setProperty("spark.test.home", home.toString());
        // The executors need this JVM's module options (Spark's --add-opens list, the Vector API).
        List<String> in = ManagementFactory.getRuntimeMXBean().getInputArguments();
        StringBuilder opts = new StringBuilder();
        for (int i = 0; i < in.size(); i++) {
            String a = in.get(i);
            if ((a.equals("--add-opens") || a.equals("--add-modules")) && i + 1 < in.size()) {
                a = a + "=" + in.get(++i);
            }
            if (a.startsWith("--add-opens=") || a.startsWith("--add-modules=") || a.startsWith("-Djdk.reflect")) {
                opts.append(opts.length() == 0 ? "" : " ").append(a);
            }
        }
        SparkConf conf = new SparkConf().setAppName("checkprop-cluster-test").setMaster("local-cluster[2,1,1024]")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executor.memory", "640m").set("spark.executor.extraJavaOptions", opts.toString());
        Network net = Network.builder(6).dense(16, 12, Activation.TANH).dense(3, Activation.IDENTITY).build(11);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        Path data = dir.resolve("reg.safetensors");
        Batch batch = Batch.regression(SparkShardsTest.uniform(30 * 6, 1), 6, SparkShardsTest.uniform(30 * 3, 2), 3);
        ModelFile.saveData(batch, data);
        Path cliOut = dir.resolve("cli.safetensors");
        StringWriter err = new StringWriter();
        assertEquals(0, dev.checkprop.cli.Main.run(new String[] {"grad", "--model", model.toString(), "--data",
                data.toString(), "--loss", "mse", "--plan", "sqrt", "--shards", "4", "--out", cliOut.toString()},
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true)), err.toString());
        byte[] expected = Files.readAllBytes(cliOut);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            // Four tasks, in the two executor JVMs (neither is this one).
            Set<Long> pids = new HashSet<>(sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8)
                    .map(i -> {
                        Thread.sleep(300); // long enough that both executors take tasks
                        return ProcessHandle.current().pid();
                    }).collect());
            assertEquals(2, pids.size(), pids.toString());
            assertFalse(pids.contains(ProcessHandle.current().pid()));
            for (String plan : new String[] {"sqrt", "auto"}) {
                Path out = dir.resolve("cluster-" + plan + ".safetensors");
                StringWriter o = new StringWriter();
                StringWriter e = new StringWriter();
                int code = SparkMain.run(new String[] {"grad", "--model", model.toString(), "--data", data.toString(),
                        "--loss", "mse", "--plan", plan, "--partitions", "4", "--out", out.toString()},
                        new PrintWriter(o, true), new PrintWriter(e, true), sc);
                assertEquals(0, code, e.toString());
                assertArrayEquals(expected, Files.readAllBytes(out), plan);
            }
            byte[] m = Files.readAllBytes(model);
            try (SparkShards s = SparkShards.open(sc, m, SparkShardsTest.samples(sc, batch, 4), Loss.MSE, "sqrt",
                    StateModel.Mode.GRADIENT, 1, 0, 1)) {
                assertArrayEquals(expected, SparkShardsTest.gradientFile(s, dir.resolve("cluster-rdd.safetensors")), "RDD");
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
