package dev.checkprop.tier;

import dev.checkprop.plan.Tier;

import java.io.IOException;

/**
 * The slots of one tier, each holding up to its capacity in floats, allocated once. Copies are raw
 * float bits in native byte order, so a read gives back exactly what was written. Used by one thread
 * at a time (the {@link TierIo} thread); not thread-safe.
 */
public abstract class TierSlots implements AutoCloseable {

    /** Capacity of each slot in floats. */
    final long[] capacity;

    TierSlots(long[] capacity) {
        this.capacity = capacity.clone();
    }

    /** Answers the tier these slots are in. */
    public abstract Tier tier();

    /** Answers the number of slots. */
    public int slots() {
        return capacity.length;
    }

    /** Answers the bytes of all slots: 4 a float of capacity. */
    public long bytes() {
        long b = 0;
        for (long c : capacity) {
            b += 4 * c;
        }
        return b;
    }

    /** Answers where the slots are, for messages (a file, or "off-heap memory"). */
    public abstract String where();

    /** Copies {@code len} floats of {@code src} into slot {@code slot} from float {@code offset} on. */
    abstract void write(int slot, long offset, float[] src, int len) throws IOException;

    /** Copies {@code len} floats from slot {@code slot} at float {@code offset} into {@code dst}. */
    abstract void read(int slot, long offset, float[] dst, int len) throws IOException;

    void checkRange(int slot, long offset, int len) {
        if (offset < 0 || len < 0 || offset + len > capacity[slot]) {
            throw new IllegalArgumentException("floats " + offset + ".." + (offset + len) + " outside slot " + slot
                    + " of " + capacity[slot] + " floats in " + tier().text());
        }
    }

    /** Frees the slots (off-heap memory returned, spill file deleted). Idempotent. */
    @Override
    public abstract void close();
}
