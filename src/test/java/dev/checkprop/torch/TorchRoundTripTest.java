package dev.checkprop.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code python/torch_roundtrip.py} (gradients of a torch nn.Sequential imported into checkprop
 * against torch's autograd, a checkprop model's outputs in torch, F64 and BF16 state_dicts, the
 * round trip of the keys) against the classes under test, when {@code /usr/bin/python3} has torch
 * and numpy (Debian: {@code apt-get install python3-torch python3-numpy}); skipped otherwise, as on
 * a fresh CI machine. safetensors is not needed: the script has its own writer of the format.
 */
class TorchRoundTripTest {

    /** Debian's torch is installed for /usr/bin/python3; -Dcheckprop.python=... chooses another. */
    private static final Path PYTHON = Path.of(System.getProperty("checkprop.python", "/usr/bin/python3"));
    private static final Path SCRIPT = Path.of("python", "torch_roundtrip.py");

    @TempDir
    Path dir;

    private static Process start(List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // Debian's torch would otherwise start as many threads as cores for each tiny product.
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** Why torch cannot be used here, or null if it can. */
    private static String torchMissing() throws InterruptedException {
        if (!Files.isExecutable(PYTHON)) {
            return PYTHON + " does not exist";
        }
        try {
            Process p = start(List.of(PYTHON.toString(), "-c", "import torch, numpy"));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return "'import torch, numpy' did not finish in 2 minutes";
            }
            if (p.exitValue() != 0) {
                String[] lines = out.split("\n");
                return "'import torch, numpy' failed: " + lines[lines.length - 1];
            }
            return null;
        } catch (IOException e) {
            return PYTHON + " cannot be run: " + e.getMessage();
        }
    }

    /** The checkprop command line on the classes under test, as one shell-quoted string. */
    private static String checkprop() {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dcheckprop.warmup=false", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), "dev.checkprop.cli.Main");
        return cmd.stream().map(a -> "'" + a.replace("'", "'\"'\"'") + "'").collect(Collectors.joining(" "));
    }

    @Test
    void gradientsWithinFloat32RoundingOfTorchAndOutputsBackInTorch() throws Exception {
        String missing = torchMissing();
        Assumptions.assumeTrue(missing == null, () -> "PyTorch is not installed for " + PYTHON + " (" + missing
                + "); the torch round trip (python/torch_roundtrip.py) is skipped. To run it on Debian: apt-get install"
                + " python3-torch python3-numpy");
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " is missing");
        List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), SCRIPT.toString(), "--checkprop", checkprop(),
                "--workdir", dir.toString()));
        Process p = start(cmd);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), out);
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("torch_roundtrip: OK: max gradient difference "), out);
        assertTrue(!out.contains("  FAIL  "), out);
    }
}
