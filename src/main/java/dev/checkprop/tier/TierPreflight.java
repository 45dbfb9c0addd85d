package dev.checkprop.tier;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Checks made before any tier is allocated, so that a plan whose copies do not fit is refused with its
 * figures rather than failing part-way: off-heap bytes against the direct memory this JVM may still
 * reserve ({@code -XX:MaxDirectMemorySize}, by default the heap's maximum, less what is reserved now),
 * and disk bytes against the usable space of the spill directory's file system.
 */
public final class TierPreflight {

    private TierPreflight() {
    }

    /**
     * Refuses direct memory that this JVM cannot give.
     *
     * @param what     names the plan, for the message
     * @param bytes    the off-heap slots and the disk tier's staging buffer
     * @param offHeap  the off-heap slots' part of {@code bytes}
     * @throws IllegalStateException naming the need, the limit, what is reserved and what to do
     */
    public static void offHeap(String what, long bytes, long offHeap) {
        if (bytes == 0) {
            return;
        }
        final long limit = DirectMemory.limit();
        final long reserved = DirectMemory.reserved();
        if (bytes > limit - reserved) {
            throw new IllegalStateException(what + ": its tier copies need " + human(bytes) + " of direct memory"
                    + (bytes > offHeap ? " (" + human(offHeap) + " off-heap slots, " + human(bytes - offHeap)
                    + " the disk tier's staging buffer)" : "") + " but this JVM may reserve "
                    + human(Math.max(0, limit - reserved)) + " (-XX:MaxDirectMemorySize " + human(limit)
                    + (DirectMemory.limitGiven() ? "" : ", by default -Xmx") + ", " + human(reserved)
                    + " reserved already); give a larger -XX:MaxDirectMemorySize, or a plan with fewer copies off the heap");
        }
    }

    /**
     * Refuses disk bytes that the spill directory's file system does not have free.
     *
     * @throws IllegalStateException naming the need, the directory, its free space and what to do
     * @throws IOException           if the directory's file system cannot be asked
     */
    public static void disk(String what, long bytes, Path spillDir) throws IOException {
        if (bytes == 0) {
            return;
        }
        if (!Files.isDirectory(spillDir)) {
            throw new java.nio.file.NoSuchFileException(spillDir.toString(), null,
                    Files.exists(spillDir) ? "is not a directory (--spill-dir)" : "does not exist (--spill-dir)");
        }
        final FileStore store = Files.getFileStore(spillDir);
        final long usable = store.getUsableSpace();
        if (bytes > usable) {
            throw new IllegalStateException(what + ": its disk tier needs " + human(bytes) + " in the spill directory "
                    + spillDir + " but its file system (" + store.name() + ") has " + human(usable)
                    + " usable; free some space, name another --spill-dir, or a plan with fewer copies on disk");
        }
    }

    static String human(long bytes) {
        final String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%,d bytes", bytes)
                : String.format(Locale.ROOT, "%.1f %s (%,d bytes)", v, units[u], bytes);
    }
}
