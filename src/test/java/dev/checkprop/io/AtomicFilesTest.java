package dev.checkprop.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Atomic writes: the old file survives any failure, and no temporary file outlives its process. */
class AtomicFilesTest {

    @TempDir
    Path dir;

    private boolean noTemporaries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.noneMatch(AtomicFiles::isTemporary);
        }
    }

    @Test
    void aFailingWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Files.write(target, new byte[] {1, 2, 3});
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[1000]);
            throw new IOException("No space left on device");
        }));
        assertEquals(target + ": could not write: No space left on device", e.getMessage());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        assertTrue(noTemporaries());
    }

    @Test
    void aWriteReplacesTheTargetWholeAndAClosingBodyIsHarmless() throws IOException {
        Path target = dir.resolve("r.json");
        Files.write(target, new byte[100]);
        AtomicFiles.write(target, out -> {
            out.write(new byte[] {4, 5});
            out.close(); // Jackson closes its target; the write must still be forced and renamed
        });
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(target));
        assertTrue(noTemporaries());
    }

    @Test
    void staleTemporariesOfDeadProcessesAreRemovedButLiveOnesKept() throws IOException {
        Path target = dir.resolve("g.safetensors");
        Path dead = dir.resolve(".g.safetensors.tmp-4194305-1f");
        Path live = dir.resolve(".g.safetensors.tmp-" + ProcessHandle.current().pid() + "-2f");
        Path other = dir.resolve(".h.safetensors.tmp-4194305-3f");
        for (Path p : new Path[] {dead, live, other}) {
            Files.write(p, new byte[] {1});
        }
        AtomicFiles.write(target, new byte[] {7});
        assertFalse(Files.exists(dead), "a dead process's temporary file was kept");
        assertTrue(Files.exists(live), "a live process's temporary file was deleted");
        assertTrue(Files.exists(other), "another target's temporary file was deleted");
    }

    @Test
    void aReplacedFileKeepsItsPermissions() throws IOException {
        Path target = dir.resolve("private.safetensors");
        Files.write(target, new byte[] {1});
        java.util.Set<java.nio.file.attribute.PosixFilePermission> owner = java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        Files.setPosixFilePermissions(target, owner);
        AtomicFiles.write(target, new byte[] {2});
        assertEquals(owner, Files.getPosixFilePermissions(target));
        assertTrue(AtomicFiles.isTemporary(AtomicFiles.probeName(target)), "probe files must be cleaned like temporaries");
    }

    @Test
    void aTargetInAMissingDirectoryIsNamed() {
        Path target = dir.resolve("none").resolve("x");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, new byte[1]));
        assertEquals(target + ": could not write: directory " + target.getParent() + " does not exist", e.getMessage());
    }

    @Test
    void readingADirectoryNamesIt() {
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(dir));
        assertEquals(dir + ": cannot read: Is a directory", e.getMessage());
    }

    @Test
    void aSymbolicLinkKeepsPointingAtTheNewContents() throws IOException {
        Path real = dir.resolve("real.bin");
        Files.write(real, new byte[] {1});
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), real);
        AtomicFiles.write(link, new byte[] {2});
        assertTrue(Files.isSymbolicLink(link));
        assertArrayEquals(new byte[] {2}, Files.readAllBytes(real));
    }
}
