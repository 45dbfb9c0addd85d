package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The off-heap pre-flight from the command line: a tiered plan whose copies need more direct memory
 * than {@code -XX:MaxDirectMemorySize} leaves is one line naming both figures and what to do, exit 2,
 * and no file written. (The capacity named in the plan string is what the planner was told; the JVM
 * has less. The speeds are given so that the planner's choice does not depend on this machine.)
 */
class TierPreflightCliTest {

    @TempDir
    Path dir;

    @Test
    void offHeapCopiesBeyondMaxDirectMemorySizeAreRefused() throws Exception {
        Network net = TestNets.withRandomBias(Network.builder(8).dense(12, 32, Activation.TANH)
                .dense(4, Activation.IDENTITY).build(3), 4);
        Path model = dir.resolve("m.safetensors");
        Path data = dir.resolve("d.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(TestNets.regression(net, 2048, 5), data);
        Map<Path, byte[]> before = ChildJvm.snapshot(dir);
        List<String> cmd = new ArrayList<>(ChildJvm.command("256m", "grad", "--model", model.toString(), "--data",
                data.toString(), "--loss", "mse", "--plan", "tiered:800KiB,offheap:64MiB", "--out",
                dir.resolve("g.safetensors").toString()));
        cmd.add(1, "-XX:MaxDirectMemorySize=2m");
        cmd.add(1, "-Dcheckprop.speeds=unit=1e-6,backward=2,offheap.write=1e10,offheap.read=1e10,offheap.latency=1000,"
                + "offheap.capacity=64MiB,disk.write=1e10,disk.read=1e10,disk.latency=1000,disk.capacity=64MiB");
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(Main.EXIT_ERROR, p.exitValue(), out + err);
        List<String> lines = ChildJvm.errorLines(new ChildJvm.Result(p.exitValue(), out, err));
        assertEquals(1, lines.size(), err);
        assertTrue(lines.get(0).matches("checkprop: plan tiered:800KiB,offheap:64MiB: its tier copies need \\d+\\.\\d MiB"
                + " \\([\\d,]+ bytes\\) of direct memory but this JVM may reserve .* \\(-XX:MaxDirectMemorySize 2\\.0 MiB"
                + " \\(2,097,152 bytes\\), .* reserved already\\); give a larger -XX:MaxDirectMemorySize, or a plan with"
                + " fewer copies off the heap"), lines.get(0));
        ChildJvm.assertUnchanged(before, dir);
    }
}
