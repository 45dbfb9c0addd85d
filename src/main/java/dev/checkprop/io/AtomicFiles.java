package dev.checkprop.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a reader, a crash or a full disk never sees a half-written one: the bytes go
 * to a temporary file in the target's own directory (a rename is atomic only within one file
 * system), which is flushed, forced to the device and then renamed over the target. Until the
 * rename the old file is untouched; after it the new one is complete.
 *
 * <p>A process killed between creating the temporary file and the rename leaves it behind. Its name,
 * {@code .TARGET.tmp-PID-RANDOM}, says whose it was, and the next write to the same target deletes
 * every such file whose process is no longer alive.
 *
 * <p>Every failure is an {@link IOException} whose message names the target and the reason (for
 * example {@code G.safetensors: could not write: No space left on device}), never the bare reason.
 */
public final class AtomicFiles {

    /** Writes the body of a file to a stream; the stream must not be closed by the body. */
    @FunctionalInterface
    public interface Body {
        /** Writes the file's bytes to {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }

    private static final String TMP = ".tmp-";

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically with the bytes {@code body} produces. If the target is a
     * symbolic link, the file it points to is replaced, not the link.
     *
     * @throws IOException naming the target, if any step fails; the target is then as it was and the
     *                     temporary file is gone
     */
    public static void write(Path target, Body body) throws IOException {
        Path real = resolve(target);
        Path dir = real.getParent();
        String name = real.getFileName().toString();
        cleanStale(dir, name);
        Path tmp = dir.resolve("." + name + TMP + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                body.writeTo(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len); // FilterOutputStream would write byte by byte
                    }

                    @Override
                    public void close() throws IOException {
                        flush(); // a body (Jackson) may close; the channel must stay open for force()
                    }
                });
                out.flush();
                keepPermissions(real, tmp);
                // The rename must not reach the disk before the data: otherwise a power cut can leave
                // an empty file under the target's name.
                ch.force(true);
            }
            try {
                Files.move(tmp, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(target + ": could not write: its directory does not support atomic renames");
            }
            done = true;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new IOException(target + ": could not write: " + reason(e), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the next write to this target removes it (its process will be gone)
                }
            }
        }
    }

    /** Writes {@code bytes} to {@code target} atomically; see {@link #write(Path, Body)}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /** Whether {@code file} is a temporary file this class made (for tests and cleaners). */
    public static boolean isTemporary(Path file) {
        String n = file.getFileName().toString();
        return n.startsWith(".") && n.contains(TMP);
    }

    /**
     * The reason an I/O exception gives, without the file names Java puts in front of it: the
     * caller names the file the user gave.
     */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static Path resolve(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.isSymbolicLink(abs)) {
            try {
                return abs.toRealPath();
            } catch (IOException e) {
                throw new IOException(target + ": could not write: it is a symbolic link to a missing file");
            }
        }
        Path parent = abs.getParent();
        if (parent == null || abs.getFileName() == null) {
            throw new IOException(target + ": could not write: not a file name");
        }
        if (Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(target + ": could not write: it is a directory");
        }
        if (!Files.isDirectory(parent)) {
            throw new IOException(target + ": could not write: directory " + parent + " does not exist");
        }
        return abs;
    }

    /** Deletes temporary files left for {@code name} in {@code dir} by processes that have died. */
    private static void cleanStale(Path dir, String name) {
        String prefix = "." + name + TMP;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path p : s) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue; // not ours
                }
                Optional<ProcessHandle> owner = ProcessHandle.of(pid);
                if (owner.isEmpty() || !owner.get().isAlive()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | SecurityException ignored) {
            // Cleaning is a courtesy: the write itself reports any real problem with the directory.
        }
    }

    /** A replaced file keeps its permissions (a private model stays private), where the platform has them. */
    private static void keepPermissions(Path target, Path tmp) {
        try {
            if (Files.exists(target)) {
                Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
            }
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not POSIX, or not ours to read: the new file has the default permissions.
        }
    }

    /**
     * A name for a short-lived file next to {@code target} in the pattern of temporary files, so that
     * if its process dies the next write to the target removes it.
     */
    public static Path probeName(Path target) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + TMP + ProcessHandle.current().pid() + "-probe"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
    }

    /** Makes the rename durable; not every platform can open a directory, which is then skipped. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // The file itself is complete; only the rename's durability across a power cut is at stake.
        }
    }
}
