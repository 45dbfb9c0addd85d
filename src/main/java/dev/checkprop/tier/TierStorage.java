package dev.checkprop.tier;

import dev.checkprop.plan.Tier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * An executor's tiers: the slots of each tier a plan uses, the spill directory of the disk tier, and
 * the I/O thread, made after the pre-flight checks and closed together.
 */
public final class TierStorage implements AutoCloseable {

    private static final Tier[] TIERS = Tier.values();

    private final TierSlots[] slots = new TierSlots[TIERS.length];
    private final SpillDirectory spill;
    private final TierIo io;

    /**
     * Checks, then allocates: the off-heap slots, the spill file, the I/O thread.
     *
     * @param what        names the plan, for messages
     * @param slotFloats  per tier (index ordinal) the floats of each slot; empty for a tier not used
     * @param spillParent the spill directory ({@code --spill-dir}); only used if the disk tier has slots
     * @param queue       the most copies queued at once
     * @throws IllegalStateException if a tier does not fit ({@link TierPreflight})
     * @throws UncheckedIOException  if the spill directory or file cannot be made
     */
    public TierStorage(String what, long[][] slotFloats, Path spillParent, int queue) {
        final long off = floats(slotFloats[Tier.OFF_HEAP.ordinal()]) * 4;
        final long disk = floats(slotFloats[Tier.DISK.ordinal()]) * 4;
        final long staging = disk == 0 ? 0 : stagingBytes(slotFloats[Tier.DISK.ordinal()]);
        TierPreflight.offHeap(what, off + staging, off);
        SpillDirectory dir = null;
        try {
            if (disk > 0) {
                TierPreflight.disk(what, disk, spillParent);
                dir = SpillDirectory.create(spillParent);
                slots[Tier.DISK.ordinal()] = new DiskSlots(dir, slotFloats[Tier.DISK.ordinal()]);
            }
            if (off > 0) {
                slots[Tier.OFF_HEAP.ordinal()] = new OffHeapSlots(slotFloats[Tier.OFF_HEAP.ordinal()]);
            }
        } catch (IOException e) {
            closeSlots();
            if (dir != null) {
                dir.close();
            }
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            closeSlots();
            if (dir != null) {
                dir.close();
            }
            throw e;
        }
        spill = dir;
        io = new TierIo(slots, queue);
    }

    private static long floats(long[] f) {
        long s = 0;
        for (long x : f) {
            s += x;
        }
        return s;
    }

    /** Answers the bytes of the disk tier's staging buffer for slots of these sizes. */
    public static long stagingBytes(long[] diskSlotFloats) {
        long largest = 0;
        for (long f : diskSlotFloats) {
            largest = Math.max(largest, 4 * f);
        }
        return diskSlotFloats.length == 0 ? 0 : Math.max(4, Math.min(DiskSlots.STAGING_BYTES, largest));
    }

    /** Answers the I/O thread. */
    public TierIo io() {
        return io;
    }

    /** Answers the bytes of {@code tier}'s slots (0 if unused). */
    public long bytes(Tier tier) {
        final TierSlots s = slots[tier.ordinal()];
        return s == null ? 0 : s.bytes();
    }

    /** Answers the direct memory these tiers took: the off-heap slots and the disk tier's staging buffer. */
    public long directBytes() {
        final DiskSlots d = (DiskSlots) slots[Tier.DISK.ordinal()];
        return bytes(Tier.OFF_HEAP) + (d == null ? 0 : d.stagingBytes());
    }

    /** Answers the spill file, or null without a disk tier. */
    public Path spillFile() {
        final DiskSlots d = (DiskSlots) slots[Tier.DISK.ordinal()];
        return d == null ? null : d.file();
    }

    /** Answers the run directory in the spill directory, or null without a disk tier. */
    public Path spillRunDirectory() {
        return spill == null ? null : spill.path();
    }

    private void closeSlots() {
        for (TierSlots s : slots) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** Stops the I/O thread (after its queued copies), frees the slots, deletes the spill files. Idempotent. */
    @Override
    public void close() {
        if (io != null) {
            io.close();
        }
        closeSlots();
        if (spill != null) {
            spill.close();
        }
    }
}
