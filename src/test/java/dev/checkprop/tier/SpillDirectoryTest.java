package dev.checkprop.tier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing left behind: a run directory goes with close and with a normal JVM exit; a killed run's
 * directory is deleted by the next run in the same spill directory, a live run's (another process's,
 * or this JVM's) is not, and nothing that is not ours is touched.
 */
class SpillDirectoryTest {

    @TempDir
    Path parent;

    private static Process child(Path parent, String how) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), SpillChild.class.getName(), parent.toString(), how)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static Path firstLine(Process p) throws IOException {
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue(line != null, "the child printed its directory");
        return Path.of(line);
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            return s.sorted().toList();
        }
    }

    @Test
    void closeDeletesTheRunDirectory() throws IOException {
        SpillDirectory d = SpillDirectory.create(parent);
        assertTrue(d.path().getFileName().toString().startsWith(SpillDirectory.PREFIX + ProcessHandle.current().pid() + "-"));
        assertTrue(Files.isRegularFile(d.path().resolve(SpillDirectory.LOCK)));
        DiskSlots slots = new DiskSlots(d, new long[] {100, 300});
        assertEquals(1600, Files.size(slots.file()), "the file is sized to its slots");
        slots.close();
        assertFalse(Files.exists(slots.file()));
        d.close();
        d.close();
        assertEquals(List.of(), entries());
    }

    @Test
    void aKilledRunIsCleanedByTheNextAndALiveOneIsNot() throws Exception {
        Process killed = child(parent, "halt");
        Path stale = firstLine(killed);
        assertTrue(killed.waitFor(1, TimeUnit.MINUTES));
        assertTrue(Files.isRegularFile(stale.resolve(DiskSlots.FILE)), "a halted JVM leaves its spill file");
        Process alive = child(parent, "wait");
        Path live = firstLine(alive);
        // Not ours: a directory with our prefix but no lock file, and a file of someone else's in a stale run directory.
        Path foreign = Files.createDirectory(parent.resolve(SpillDirectory.PREFIX + "not-ours"));
        Files.writeString(foreign.resolve("data"), "keep");
        Process killed2 = child(parent, "halt");
        Path staleWithForeign = firstLine(killed2);
        assertTrue(killed2.waitFor(1, TimeUnit.MINUTES));
        Files.writeString(staleWithForeign.resolve("notes.txt"), "keep");
        SpillDirectory inThisJvm = SpillDirectory.create(parent);
        try (SpillDirectory next = SpillDirectory.create(parent)) {
            assertEquals(List.of(), next.swept(), "the second run in this JVM finds nothing stale");
            assertFalse(Files.exists(stale), "the killed run's directory is gone");
            assertTrue(Files.isRegularFile(live.resolve(DiskSlots.FILE)), "the live run's file is kept");
            assertTrue(Files.isDirectory(inThisJvm.path()), "this JVM's live run is kept");
            assertEquals("keep", Files.readString(foreign.resolve("data")));
            assertEquals("keep", Files.readString(staleWithForeign.resolve("notes.txt")));
            assertFalse(Files.exists(staleWithForeign.resolve(DiskSlots.FILE)), "our file in it is deleted");
            assertFalse(Files.exists(staleWithForeign.resolve(SpillDirectory.LOCK)));
        }
        inThisJvm.close();
        assertTrue(List.of(stale).stream().noneMatch(Files::exists));
        alive.getOutputStream().close();
        assertTrue(alive.waitFor(1, TimeUnit.MINUTES));
        assertEquals(0, alive.exitValue());
        assertFalse(Files.exists(live), "the live run deleted its own directory when it closed");
        assertEquals(List.of(foreign, staleWithForeign).stream().sorted().toList(), entries());
    }

    @Test
    void aNormalExitWithoutCloseRunsTheShutdownHook() throws Exception {
        Process p = child(parent, "exit");
        Path dir = firstLine(p);
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertFalse(Files.exists(dir), "the shutdown hook deleted " + dir);
        assertEquals(List.of(), entries());
    }

    @Test
    void aMissingSpillDirectoryIsNamed() {
        Path missing = parent.resolve("nope");
        java.nio.file.NoSuchFileException e = assertThrows(java.nio.file.NoSuchFileException.class,
                () -> SpillDirectory.create(missing));
        assertEquals(missing + ": does not exist (--spill-dir)", e.getMessage());
    }
}
