package dev.checkprop.tier;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One run's directory inside the spill directory a user names: {@code checkprop-spill-PID-RANDOM},
 * holding a lock file ({@value #LOCK}) locked with a {@link FileLock} for as long as the run lives, and
 * the run's spill files. The operating system releases the lock when the process ends however it ends,
 * so a run directory whose lock can be taken belongs to a run that is gone: {@link #create} deletes
 * such directories first (a killed run's leftovers), and only those, and in them only the files this
 * class names. {@link #close()} deletes this run's files and directory; a shutdown hook does the same
 * if the JVM exits first, and is removed by {@code close()}.
 */
public final class SpillDirectory implements AutoCloseable {

    /** Prefix of every run directory. */
    public static final String PREFIX = "checkprop-spill-";

    /** The lock file: its presence marks a directory as one of ours, its lock as alive. */
    public static final String LOCK = "checkprop-spill.lock";

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final List<Path> files = new ArrayList<>();
    private final Thread hook;
    private final List<Path> swept;
    private boolean closed;

    private SpillDirectory(Path dir, FileChannel lockChannel, FileLock lock, List<Path> swept) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.swept = swept;
        this.hook = new Thread(this::cleanup, "checkprop-spill-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Cleans stale run directories in {@code parent}, then creates and locks a new one.
     *
     * @param parent the spill directory (must exist and be a directory)
     * @throws IOException naming the directory if it does not exist or a file cannot be made there
     */
    public static SpillDirectory create(Path parent) throws IOException {
        if (!Files.isDirectory(parent)) {
            throw new java.nio.file.NoSuchFileException(parent.toString(), null,
                    Files.exists(parent) ? "is not a directory (--spill-dir)" : "does not exist (--spill-dir)");
        }
        final List<Path> swept = sweep(parent);
        Path dir = null;
        for (int attempt = 0; dir == null; attempt++) {
            final Path candidate = parent.resolve(PREFIX + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
            try {
                dir = Files.createDirectory(candidate);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 8) {
                    throw e;
                }
            }
        }
        final Path lockFile = dir.resolve(LOCK);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            final FileLock lock = ch.lock();
            return new SpillDirectory(dir, ch, lock, swept);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(lockFile);
            Files.deleteIfExists(dir);
            throw e;
        }
    }

    /**
     * Deletes the run directories in {@code parent} whose lock file is there and not locked; answers
     * them. A directory without our lock file, a locked one, and any file not of our naming are left.
     */
    static List<Path> sweep(Path parent) throws IOException {
        final List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path d : entries) {
                final Path lockFile = d.resolve(LOCK);
                if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (isStale(lockFile)) {
                    try (DirectoryStream<Path> inside = Files.newDirectoryStream(d)) {
                        for (Path f : inside) {
                            if (ours(f.getFileName().toString()) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                                Files.deleteIfExists(f);
                            }
                        }
                    }
                    try {
                        Files.deleteIfExists(d);
                        stale.add(d);
                    } catch (java.nio.file.DirectoryNotEmptyException e) {
                        // Someone put a file of their own there: theirs to delete, not ours.
                    }
                }
            }
        }
        return stale;
    }

    /** Whether the lock file's lock is free: its run has ended. */
    private static boolean isStale(Path lockFile) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            final FileLock l = ch.tryLock();
            if (l == null) {
                return false; // held by another process
            }
            l.release();
            return true;
        } catch (OverlappingFileLockException e) {
            return false; // held by this JVM: a live executor's
        } catch (IOException e) {
            return false; // cannot tell: leave it
        }
    }

    /** The names this class creates in a run directory. */
    private static boolean ours(String name) {
        return name.equals(LOCK) || name.equals(DiskSlots.FILE);
    }

    /** Answers this run's directory. */
    public Path path() {
        return dir;
    }

    /** Answers the stale run directories deleted when this one was created. */
    public List<Path> swept() {
        return List.copyOf(swept);
    }

    /** Answers a path for a new file named {@code name} here, deleted with the directory. */
    synchronized Path newFile(String name) {
        if (!ours(name)) {
            throw new IllegalArgumentException("not a spill file name: " + name);
        }
        final Path p = dir.resolve(name);
        files.add(p);
        return p;
    }

    private synchronized void deleteFiles() {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // Left for the next run's sweep (the lock is released with the process).
            }
        }
        files.clear();
    }

    /** Deletes this run's files, the lock and the directory; removes the shutdown hook. Idempotent. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook runs or has run.
        }
        cleanup();
    }

    /** What close and the shutdown hook do: the files, then the lock, then the directory. */
    private synchronized void cleanup() {
        if (closed) {
            return;
        }
        closed = true;
        deleteFiles();
        try {
            lock.release();
            lockChannel.close();
            Files.deleteIfExists(dir.resolve(LOCK));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // A directory left behind has a free lock: the next run in this spill directory deletes it.
        }
    }
}
