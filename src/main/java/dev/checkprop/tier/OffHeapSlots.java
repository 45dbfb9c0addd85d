package dev.checkprop.tier;

import dev.checkprop.plan.Tier;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Off-heap slots: one direct {@link ByteBuffer} per slot, with a float view made once, so copies in
 * and out are bulk absolute puts and gets (Java 16+) that allocate nothing. Direct buffers count in
 * the JVM's "direct" buffer pool and against {@code -XX:MaxDirectMemorySize}; {@link #close()}
 * returns the memory at once rather than when the garbage collector finds the buffers.
 */
public final class OffHeapSlots extends TierSlots {

    /** The most bytes one direct buffer holds. */
    public static final long MAX_SLOT_BYTES = Integer.MAX_VALUE & ~7L;

    private ByteBuffer[] buffers;
    private FloatBuffer[] views;

    /**
     * Allocates the slots.
     *
     * @param capacity floats of each slot
     * @throws IllegalArgumentException if a slot exceeds {@link #MAX_SLOT_BYTES}
     */
    public OffHeapSlots(long[] capacity) {
        super(capacity);
        buffers = new ByteBuffer[capacity.length];
        views = new FloatBuffer[capacity.length];
        for (int s = 0; s < capacity.length; s++) {
            if (4 * capacity[s] > MAX_SLOT_BYTES) {
                throw new IllegalArgumentException("a state of " + 4 * capacity[s] + " bytes is larger than one off-heap"
                        + " buffer holds (" + MAX_SLOT_BYTES + " bytes); keep it on disk or in the heap");
            }
            buffers[s] = ByteBuffer.allocateDirect((int) (4 * capacity[s])).order(ByteOrder.nativeOrder());
            views[s] = buffers[s].asFloatBuffer();
        }
    }

    @Override
    public Tier tier() {
        return Tier.OFF_HEAP;
    }

    @Override
    public String where() {
        return "off-heap memory";
    }

    @Override
    void write(int slot, long offset, float[] src, int len) {
        checkRange(slot, offset, len);
        views[slot].put((int) offset, src, 0, len);
    }

    @Override
    void read(int slot, long offset, float[] dst, int len) {
        checkRange(slot, offset, len);
        views[slot].get((int) offset, dst, 0, len);
    }

    @Override
    public void close() {
        if (buffers == null) {
            return;
        }
        for (ByteBuffer b : buffers) {
            DirectMemory.free(b);
        }
        buffers = null;
        views = null;
    }
}
