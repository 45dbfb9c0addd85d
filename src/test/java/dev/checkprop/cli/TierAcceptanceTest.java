package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16's acceptance: a network whose full-storage activations are 2 GiB (512 tanh layers of
 * width 16, batch 65536: 4 MiB a state) gets its gradient from {@code grad --plan tiered:24MiB,disk:4GiB} in a JVM
 * of {@code -Xmx128m} (the planner chooses, from the probe's speeds, which states go to disk and when
 * they are read back), byte for byte the gradient file {@code grad --plan full} writes in a JVM of {@code -Xmx4g}; the
 * tiers take what the report predicts (direct-buffer pool, spill file), and the spill directory is empty
 * after.
 */
class TierAcceptanceTest {

    @TempDir
    Path dir;

    @Test
    void twoGibOfActivationsUnder128MiBOfHeapGiveTheBitsOfFullStorage() throws Exception {
        Network net = TestNets.withRandomBias(Network.builder(16).dense(511, 16, Activation.TANH)
                .dense(16, Activation.IDENTITY).build(16), 17);
        int n = 65536;
        long full = 0;
        for (int l = 1; l <= net.depth(); l++) {
            full += 4 * StateModel.floats(net.layer(l), n);
        }
        assertTrue(full >= 2L << 30, "full storage holds " + full + " bytes of states");
        Batch batch = TestNets.regression(net, n, 18);
        Path model = dir.resolve("m.safetensors");
        Path data = dir.resolve("d.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(batch, data);
        Path spill = Files.createDirectory(dir.resolve("spill"));
        Path tieredOut = dir.resolve("tiered.safetensors");
        Path fullOut = dir.resolve("full.safetensors");

        Path report = dir.resolve("r.json");
        ChildJvm.Result tiered = ChildJvm.run("128m", "grad", "--model", model.toString(), "--data", data.toString(),
                "--loss", "mse", "--plan", "tiered:24MiB,disk:4GiB", "--spill-dir", spill.toString(), "--threads", "2", "--out",
                tieredOut.toString(), "--report", report.toString());
        assertEquals(0, tiered.code(), tiered.out() + tiered.err());
        com.fasterxml.jackson.databind.JsonNode t = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile())
                .get("tiers");
        assertTrue(t != null && t.get("disk").get("bytes_written").asLong() + t.get("offheap").get("bytes_written").asLong()
                >= 1L << 30, "at least 1 GiB went to the tiers: " + tiered.out());
        assertEquals(t.get("direct_bytes_predicted").asLong(), t.get("direct_bytes_measured").asLong(), t.toString());
        assertEquals(t.get("disk").get("slot_bytes_predicted").asLong(), t.get("spill_file_bytes_measured").asLong(),
                t.toString());
        String out = inLargeHeap("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--plan",
                "full", "--threads", "2", "--out", fullOut.toString());
        assertTrue(out.contains("predicted peak activations 2.0 GiB"), out);
        assertArrayEquals(Files.readAllBytes(fullOut), Files.readAllBytes(tieredOut), "gradient files differ");
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "left in the spill directory");
        }
    }

    /**
     * Training, not only one gradient: three Adam steps of the same 2 GiB network (batch 16384, 1 MiB a
     * state) under {@code -Xmx128m} with a tiered plan save the model that three steps under full
     * storage in a 4 GiB JVM save, byte for byte.
     */
    @Test
    void threeAdamStepsUnder128MiBSaveTheModelOfFullStorage() throws Exception {
        Network net = TestNets.withRandomBias(Network.builder(16).dense(511, 16, Activation.TANH)
                .dense(16, Activation.IDENTITY).build(26), 27);
        Batch batch = TestNets.regression(net, 65536, 28);
        Path model = dir.resolve("m.safetensors");
        Path data = dir.resolve("d.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(batch, data);
        Path spill = Files.createDirectory(dir.resolve("spill"));
        Path tieredModel = dir.resolve("tiered-model.safetensors");
        Path fullModel = dir.resolve("full-model.safetensors");
        // 52429 training rows after the 20% held out: three steps of 16384.
        String[] common = {"train", "--model", model.toString(), "--data", data.toString(), "--targets", "16",
                "--epochs", "1", "--batch", "16384", "--threads", "2", "--no-progress"};
        List<String> tieredArgs = new java.util.ArrayList<>(List.of(common));
        tieredArgs.addAll(List.of("--plan", "tiered:24MiB,disk:4GiB", "--spill-dir", spill.toString(), "--save",
                tieredModel.toString()));
        ChildJvm.Result tiered = ChildJvm.run("128m", tieredArgs.toArray(String[]::new));
        assertEquals(0, tiered.code(), tiered.out() + tiered.err());
        assertTrue(tiered.out().contains("plan tiered:24MiB,disk:4GiB") && tiered.out().contains("3 steps"), tiered.out());
        assertTrue(tiered.out().contains("disk: "), "the plan uses the disk tier: " + tiered.out());

        List<String> fullArgs = new java.util.ArrayList<>(List.of(common));
        fullArgs.addAll(List.of("--plan", "full", "--save", fullModel.toString()));
        inLargeHeap(fullArgs.toArray(String[]::new));
        assertArrayEquals(Files.readAllBytes(fullModel), Files.readAllBytes(tieredModel), "trained models differ");
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "left in the spill directory");
        }
    }

    /**
     * Runs the CLI in a child JVM of 4 GiB with 32 MiB regions, so that G1 does not hold each 4 MiB
     * state as a humongous object in two regions (4 GiB for the 2 GiB of states, which a 4 GiB heap's
     * pre-flight rightly refuses); answers its output after asserting exit code 0.
     */
    private static String inLargeHeap(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(ChildJvm.command("4g", args));
        cmd.add(1, "-XX:G1HeapRegionSize=32m");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
