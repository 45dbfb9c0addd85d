package dev.checkprop.cli;

import dev.checkprop.io.AtomicFiles;
import dev.checkprop.io.ModelFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, case 1: {@code kill -9} at random moments of {@code train --save} (seeded), many of them
 * inside the save itself, never leaves a truncated model where a good one was; the next run clears
 * the killed runs' temporary files.
 */
class KillDuringSaveTest {

    @TempDir
    Path dir;

    @Test
    void killingTrainAnywhereLeavesTheOldModelOrTheNewOne() throws Exception {
        Path model = dir.resolve("model.safetensors");
        // About 6.6 M parameters (26 MB) and one training step: the save is a good share of the run.
        String[] args = {"train", "--samples", "20", "--batch", "16", "--epochs", "1", "--blocks", "100", "--width", "256",
                "--optimizer", "sgd", "--plan", "sqrt", "--threads", "1", "--no-progress", "--save", model.toString()};
        long t0 = System.nanoTime();
        ChildJvm.Result first = ChildJvm.run("512m", args);
        double runSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, first.code(), first.out() + first.err());
        byte[] good = Files.readAllBytes(model);
        ModelFile.load(model); // a complete model

        Random random = new Random(13);
        int killedMidSave = 0;
        for (int attempt = 0; attempt < 6; attempt++) {
            Process p = new ProcessBuilder(ChildJvm.command("512m", args)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            boolean exited;
            if (attempt % 2 == 0) {
                // Anywhere in the run: start-up, training, evaluation or the save.
                exited = p.waitFor((long) (1000 * runSeconds * random.nextDouble()), TimeUnit.MILLISECONDS);
            } else {
                // Inside the save: as soon as its temporary file appears, then a little later.
                exited = false;
                while (!exited && !saving(p)) {
                    exited = p.waitFor(1, TimeUnit.MILLISECONDS);
                }
                if (!exited) {
                    exited = p.waitFor(random.nextInt(4), TimeUnit.MILLISECONDS);
                }
            }
            if (!exited) {
                boolean midSave = saving(p);
                p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally block runs
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                if (midSave && saving(p)) {
                    killedMidSave++;
                }
            }
            // Training is seeded: a completed save writes the same bytes, so "old or new" is one file.
            assertArrayEquals(good, Files.readAllBytes(model), "attempt " + attempt + " left a different model");
        }
        // The next run removes what the killed ones left, and leaves nothing of its own.
        ChildJvm.Result last = ChildJvm.run("512m", args);
        assertEquals(0, last.code(), last.out() + last.err());
        assertArrayEquals(good, Files.readAllBytes(model));
        List<Path> left;
        try (Stream<Path> s = Files.list(dir)) {
            left = s.filter(AtomicFiles::isTemporary).toList();
        }
        assertEquals(List.of(), left);
        // The save of 26 MB lasts longer than the 1 ms polls and the few ms after: the kills meant for it hit it.
        assertTrue(killedMidSave >= 1, "no kill landed inside a save");
    }

    /**
     * Whether {@code child}'s save is under way: its own temporary file exists (those of runs killed
     * before stay until the next save; the writability probe at the start has the same pattern).
     */
    private boolean saving(Process child) throws java.io.IOException {
        String prefix = ".model.safetensors.tmp-" + child.pid() + "-";
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(f -> f.getFileName().toString()).anyMatch(n -> n.startsWith(prefix) && !n.contains("-probe"));
        }
    }
}
