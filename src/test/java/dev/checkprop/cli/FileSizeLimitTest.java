package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, cases 1 and 6: {@code grad --out} under {@code ulimit -f} (the write fails part-way with
 * "File too large", as a full disk fails with "No space left on device") names the file, exits 2 and
 * leaves the old output and no temporary file.
 */
class FileSizeLimitTest {

    @TempDir
    Path dir;

    @Test
    void aWriteCutShortByTheFileSizeLimitKeepsTheOldFile() throws Exception {
        Network net = Network.builder(64).dense(20, 128, Activation.TANH).dense(10, Activation.IDENTITY).build(1);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        Path data = dir.resolve("d.safetensors");
        ModelFile.saveData(Batch.regression(new float[16 * 64], 64, new float[16 * 10], 10), data);
        Path out = dir.resolve("g.safetensors");
        Files.writeString(out, "the previous gradients");
        Map<Path, byte[]> before = ChildJvm.snapshot(dir);
        List<String> java = ChildJvm.command("128m", "grad", "--model", model.toString(), "--data", data.toString(),
                "--loss", "mse", "--out", out.toString());
        // 100 blocks of 512 bytes: the 1.3 MB gradient file cannot be written, its inputs can be read.
        String script = "ulimit -f 100; exec " + java.stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        Process p = new ProcessBuilder(new ArrayList<>(List.of("bash", "-c", script))).start();
        p.getOutputStream().close();
        p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(Main.EXIT_ERROR, p.exitValue(), err);
        assertEquals(List.of("checkprop: " + out + ": could not write: File too large"),
                ChildJvm.errorLines(new ChildJvm.Result(p.exitValue(), "", err)));
        ChildJvm.assertUnchanged(before, dir);
    }
}
