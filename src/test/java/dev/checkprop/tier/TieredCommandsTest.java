package dev.checkprop.tier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.cli.Main;
import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands with tiered plans: {@code grad --plan tiered:... --spill-dir} writes full storage's
 * gradient file byte for byte and reports what the tiers moved and took (the direct pool and the file
 * as measured, equal to the prediction); {@code train} runs with one and leaves nothing; a disk that
 * fails mid-run is one error line, exit 2, and no gradient file; a bad {@code --spill-dir} is named.
 * The step-time model is given ({@code -Dcheckprop.speeds}: slow compute, fast tiers), so the planner's
 * choice of a tiered plan does not depend on this machine's speeds.
 */
class TieredCommandsTest {

    @TempDir
    Path dir;

    private final DiskSlots.ChannelOpener original = DiskSlots.opener;
    private String speeds;

    @BeforeEach
    void giveSpeeds() {
        speeds = System.getProperty("checkprop.speeds");
        System.setProperty("checkprop.speeds", "unit=1e-6,backward=2,offheap.write=1e10,offheap.read=1e10,offheap.latency=1000,"
                + "offheap.capacity=64MiB,disk.write=1e10,disk.read=1e10,disk.latency=1000,disk.capacity=64MiB");
    }

    @AfterEach
    void restore() {
        DiskSlots.opener = original;
        if (speeds == null) {
            System.clearProperty("checkprop.speeds");
        } else {
            System.setProperty("checkprop.speeds", speeds);
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private Path[] files() throws Exception {
        Network net = TestNets.withRandomBias(Network.builder(8).dense(12, 32, Activation.TANH)
                .dense(4, Activation.IDENTITY).build(3), 4);
        Path model = dir.resolve("m.safetensors");
        Path data = dir.resolve("d.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(TestNets.regression(net, 64, 5), data);
        return new Path[] {model, data, Files.createDirectory(dir.resolve("spill"))};
    }

    private static List<String> errors(Run r) {
        return r.err().lines().filter(l -> l.startsWith("checkprop:")).toList();
    }

    private void assertSpillEmpty(Path spill) throws Exception {
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "left in the spill directory");
        }
    }

    @Test
    void gradWithATieredPlanWritesTheBitsOfFullStorageAndReportsTheTiers() throws Exception {
        Path[] f = files();
        Path full = dir.resolve("full.safetensors");
        Path tiered = dir.resolve("tiered.safetensors");
        Path report = dir.resolve("r.json");
        Run a = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--out", full.toString());
        assertEquals(0, a.code(), a.err());
        Run b = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--plan",
                "tiered:25KiB,disk:64MiB,offheap:64MiB", "--spill-dir", f[2].toString(), "--out", tiered.toString(),
                "--report", report.toString(), "--threads", "2");
        assertEquals(0, b.code(), b.err());
        assertArrayEquals(Files.readAllBytes(full), Files.readAllBytes(tiered));
        assertTrue(b.out().contains("tiers: offheap "), b.out());
        JsonNode t = new ObjectMapper().readTree(report.toFile()).get("tiers");
        assertTrue(t != null, "a tiers section");
        long written = t.get("offheap").get("bytes_written").asLong() + t.get("disk").get("bytes_written").asLong();
        assertTrue(written > 0, t.toString());
        assertEquals(t.get("direct_bytes_predicted").asLong(), t.get("direct_bytes_measured").asLong(), t.toString());
        assertEquals(t.get("disk").get("slot_bytes_predicted").asLong(), t.get("spill_file_bytes_measured").asLong(),
                t.toString());
        assertEquals(f[2].toString(), t.get("spill_dir").asText());
        assertSpillEmpty(f[2]);
    }

    /** {@code --shards} with a tiered plan: each shard's executor spills to {@code --spill-dir}, the file is --shards' own. */
    @Test
    void shardsWithATieredPlanSpillWhereTold() throws Exception {
        Path[] f = files();
        Path heap = dir.resolve("heap.safetensors");
        Path tiered = dir.resolve("tiered.safetensors");
        Run a = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--shards", "3",
                "--out", heap.toString());
        assertEquals(0, a.code(), a.err());
        DiskSlots.opener = p -> {
            assertTrue(p.startsWith(f[2]), "spills in --spill-dir: " + p);
            return original.open(p);
        };
        Run b = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--shards", "3",
                "--plan", "tiered:9KiB,disk:64MiB", "--spill-dir", f[2].toString(), "--out", tiered.toString());
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("disk: "), b.out());
        assertArrayEquals(Files.readAllBytes(heap), Files.readAllBytes(tiered));
        assertSpillEmpty(f[2]);
    }

    @Test
    void aDiskFailingMidRunIsOneLineAndNoGradientFile() throws Exception {
        Path[] f = files();
        Path out = dir.resolve("g.safetensors");
        DiskSlots.opener = p -> new FailingChannel(FileChannel.open(p, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE), 1 + 4L * 32 * 64);
        Run r = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--plan",
                "tiered:25KiB,disk:64MiB", "--spill-dir", f[2].toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        List<String> e = errors(r);
        assertEquals(1, e.size(), r.err());
        assertTrue(e.get(0).matches("checkprop: could not write the state of layer \\d+ \\(8192 bytes\\) to disk \\("
                + java.util.regex.Pattern.quote(f[2].toString()) + "/checkprop-spill-[^)]*/disk-slots.bin\\):"
                + " No space left on device"), e.get(0));
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(Files.exists(out), "no gradient file");
        assertSpillEmpty(f[2]);
    }

    @Test
    void trainWithATieredPlanLeavesNothing() throws Exception {
        Path[] f = files();
        Path out = dir.resolve("trained.safetensors");
        Path labels = dir.resolve("labels.safetensors");
        ModelFile.saveData(TestNets.classification(ModelFile.load(f[0]), 64, 6), labels);
        Run r = cli("train", "--model", f[0].toString(), "--data", labels.toString(), "--epochs", "2", "--batch", "32",
                "--plan", "tiered:25KiB,disk:64MiB", "--spill-dir", f[2].toString(), "--save", out.toString(),
                "--no-progress");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("disk: 28.0 KiB written and read"), r.out());
        assertTrue(Files.exists(out));
        assertSpillEmpty(f[2]);
    }

    @Test
    void aBadSpillDirIsNamed() throws Exception {
        Path[] f = files();
        Path missing = dir.resolve("nope");
        Run r = cli("grad", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--spill-dir",
                missing.toString(), "--out", dir.resolve("g.safetensors").toString());
        assertEquals(2, r.code());
        assertEquals(List.of("checkprop: --spill-dir " + missing + ": no such directory"), errors(r));
        Run h = cli("hvp", "--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--vector",
                f[0].toString(), "--spill-dir",
                f[0].toString(), "--out", dir.resolve("h.safetensors").toString());
        assertEquals(List.of("checkprop: --spill-dir " + f[0] + ": is a file, not a directory"), errors(h), h.err());
    }
}
