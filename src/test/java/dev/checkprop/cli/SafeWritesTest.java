package dev.checkprop.cli;

import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.io.AtomicFiles;
import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, case 1: no output replaces an input, every output is checked before the work, and every
 * write is atomic. Each refusal must leave every file in the directory byte for byte as it was.
 */
class SafeWritesTest {

    @TempDir
    Path dir;

    Path model;
    Path data;
    Path labelled;
    Path vector;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeEach
    void files() throws IOException {
        Network net = Network.builder(4).dense(3, 5, Activation.TANH).dense(2, Activation.IDENTITY).build(7);
        model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        data = dir.resolve("d.safetensors");
        float[] x = new float[8 * 4];
        float[] y = new float[8 * 2];
        Arrays.setAll(new int[x.length], i -> 0);
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) / 7f - 0.5f;
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (i % 3) / 3f;
        }
        ModelFile.saveData(Batch.regression(x, 4, y, 2), data);
        labelled = dir.resolve("l.safetensors");
        ModelFile.saveData(Batch.classification(x, 4, new int[] {0, 1, 0, 1, 1, 0, 0, 1}), labelled);
        vector = dir.resolve("v.safetensors");
        Gradients v = Gradients.zerosLike(net);
        v.weights(1)[0] = 1f;
        DirectionFile.toSafeTensors(net, v, Map.of()).write(vector);
    }

    private Map<Path, byte[]> snapshot() throws IOException {
        Map<Path, byte[]> files = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                files.put(p.getFileName(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    /** Runs a command that must be refused with {@code expected} and change nothing in the directory. */
    private void refused(String expected, String... args) throws IOException {
        Map<Path, byte[]> before = snapshot();
        Result r = run(args);
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals("checkprop: " + expected + System.lineSeparator(), r.err());
        Map<Path, byte[]> after = snapshot();
        assertEquals(before.keySet(), after.keySet(), "files appeared or vanished");
        for (Path p : before.keySet()) {
            assertArrayEquals(before.get(p), after.get(p), p + " changed");
        }
    }

    @Test
    void gradOutOverTheModelIsRefused() throws IOException {
        refused("--out " + model + " is the same file as --model " + model
                        + ": writing it would destroy the input; choose another --out",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", model.toString());
    }

    @Test
    void sameFileIsFoundThroughAnotherSpellingOfThePath() throws IOException {
        String other = dir.resolve(".").resolve("m.safetensors").toString();
        refused("--out " + other + " is the same file as --model " + model
                        + ": writing it would destroy the input; choose another --out",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", other);
        Path link = dir.resolve("link.safetensors");
        Files.createSymbolicLink(link, model);
        refused("--out " + link + " is the same file as --model " + model
                        + ": writing it would destroy the input; choose another --out",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", link.toString());
    }

    @Test
    void reportOverAnInputOrTheOutputIsRefused() throws IOException {
        refused("--report " + data + " is the same file as --data " + data
                        + ": writing it would destroy the input; choose another --report",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                "--out", dir.resolve("g.safetensors").toString(), "--report", data.toString());
        Path g = dir.resolve("g.safetensors");
        refused("--report " + g + " is the same file as --out " + g + ": one would overwrite the other; give them different files",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                "--out", g.toString(), "--report", g.toString());
    }

    @Test
    void hvpOutputsOverInputsAreRefused() throws IOException {
        refused("--out " + vector + " is the same file as --vector " + vector
                        + ": writing it would destroy the input; choose another --out",
                "hvp", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--vector", vector.toString(),
                "--out", vector.toString());
        refused("--report " + model + " is the same file as --model " + model
                        + ": writing it would destroy the input; choose another --report",
                "hvp", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--vector", vector.toString(),
                "--out", dir.resolve("hv.safetensors").toString(), "--report", model.toString());
    }

    @Test
    void initOutAndDataOnOneFileIsRefused() throws IOException {
        Path x = dir.resolve("x.safetensors");
        refused("--data " + x + " is the same file as --out " + x + ": one would overwrite the other; give them different files",
                "init", "--input", "4", "--layers", "2", "--width", "3", "--output", "2", "--out", x.toString(),
                "--data", x.toString());
    }

    @Test
    void trainSaveOverItsDataOrItsReportIsRefused() throws IOException {
        refused("--save " + labelled + " is the same file as --data " + labelled
                        + ": writing it would destroy the input; choose another --save",
                "train", "--data", labelled.toString(), "--save", labelled.toString(), "--blocks", "1", "--width", "4",
                "--epochs", "1", "--batch", "2");
        Path x = dir.resolve("x.safetensors");
        refused("--report " + x + " is the same file as --save " + x + ": one would overwrite the other; give them different files",
                "train", "--samples", "64", "--save", x.toString(), "--report", x.toString(), "--blocks", "1");
    }

    @Test
    void outputsInAMissingDirectoryAreRefusedBeforeTheWork() throws IOException {
        Path missing = dir.resolve("no-such-dir").resolve("m.safetensors");
        long t0 = System.nanoTime();
        // 10^9 steps of work would take hours: the refusal must come first.
        refused("--save " + missing + ": directory " + missing.getParent() + " does not exist",
                "train", "--samples", "64", "--epochs", "1000000000", "--blocks", "1", "--width", "4", "--save", missing.toString());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused only after work");
        refused("--out " + missing + ": directory " + missing.getParent() + " does not exist",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", missing.toString());
        Path underAFile = model.resolve("g.safetensors");
        refused("--out " + underAFile + ": " + model + " is not a directory",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", underAFile.toString());
        refused("--out " + dir + ": is a directory; give a file name",
                "grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", dir.toString());
    }

    @Test
    void missingOrDirectoryInputsAreNamed() throws IOException {
        Path missing = dir.resolve("nope.safetensors");
        refused("--model " + missing + ": no such file",
                "grad", "--model", missing.toString(), "--data", data.toString(), "--loss", "mse",
                "--out", dir.resolve("g.safetensors").toString());
        refused("--data " + dir + ": is a directory, not a file",
                "eval", "--model", model.toString(), "--data", dir.toString());
    }

    @Test
    void aSuccessfulRunReplacesTheOldOutputAndLeavesNoTemporaryFile() throws IOException {
        Path g = dir.resolve("g.safetensors");
        Files.write(g, new byte[] {1, 2, 3});
        // A temporary file of a process that died (pid 2^22 + 1 is above Linux's pid_max default range).
        Path stale = dir.resolve(".g.safetensors.tmp-4194305-abc");
        Files.write(stale, new byte[] {9});
        Result r = run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse", "--out", g.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("loss", dev.checkprop.io.SafeTensors.read(g).metadata().keySet().iterator().next());
        try (Stream<Path> s = Files.list(dir)) {
            assertFalse(s.anyMatch(AtomicFiles::isTemporary), "a temporary file was left behind");
        }
    }
}
