package dev.checkprop.plan;

import java.util.Arrays;
import java.util.function.LongUnaryOperator;

/**
 * One walk through a {@link Plan} with the size of every layer's state: the live bytes after every
 * action, the peak and where it is first reached, and the buffers an executor must allocate to run
 * the plan, with the buffer each forward action writes. The one simulator: planners' budgets, the
 * executor's pools, memory predictions and reports all read it, so they cannot disagree.
 *
 * <h2>NOTE [Buffers]</h2>
 * A forward action {@code F l} needs a buffer of at least size(l) units (floats, for an executor).
 * It takes, among the free buffers, the smallest that is large enough; failing that, the largest free
 * buffer, grown to size(l); failing that (none is free), a new buffer of size(l). So there are never
 * more buffers than states live at once, a chain of equal sizes allocates exactly its live peak, and
 * every buffer is as large as the largest state it ever holds. The assignment is a pure function of
 * the plan and the sizes: the executor follows it and does no bookkeeping of its own.
 *
 * <p>Immutable. Building one costs O(actions &middot; log buffers) time and an int per action.
 */
public final class Simulation {

    private final long[] liveAfter;
    private final long peakBytes;
    private final int peakAction;
    private final int peakStates;
    private final long[] bufferSizes;
    private final int[] bufferOf;
    private final long allocatedBytes;
    private final long occupiedAtPeak;

    private Simulation(long[] liveAfter, long peakBytes, int peakAction, int peakStates, long[] bufferSizes,
                       int[] bufferOf, long allocatedBytes, long occupiedAtPeak) {
        this.occupiedAtPeak = occupiedAtPeak;
        this.liveAfter = liveAfter;
        this.peakBytes = peakBytes;
        this.peakAction = peakAction;
        this.peakStates = peakStates;
        this.bufferSizes = bufferSizes;
        this.bufferOf = bufferOf;
        this.allocatedBytes = allocatedBytes;
    }

    /**
     * Walks {@code plan}.
     *
     * @param size    size(l) of the state of layer l, index l (index 0 unused), each positive
     * @param bytesOf the bytes one state of a given size occupies (all its arrays, headers included)
     * @throws IllegalArgumentException if {@code size} does not have L + 1 entries
     * @throws InvalidPlanException     if the plan drops a state that is not live or computes one that is
     */
    public static Simulation of(Plan plan, long[] size, LongUnaryOperator bytesOf) {
        final int layers = plan.layers();
        if (size.length != layers + 1) {
            throw new IllegalArgumentException("sizes for " + (size.length - 1) + " layers, the plan has " + layers);
        }
        final long[] stateBytes = new long[layers + 1];
        for (int l = 1; l <= layers; l++) {
            if (size[l] < 1) {
                throw new IllegalArgumentException("layer " + l + " has state size " + size[l] + "; sizes must be positive");
            }
            stateBytes[l] = bytesOf.applyAsLong(size[l]);
        }
        final long[] liveAfter = new long[plan.size()];
        final int[] bufferOf = new int[plan.size()];
        Arrays.fill(bufferOf, -1);
        final int[] holder = new int[layers + 1];
        Arrays.fill(holder, -1);
        long[] sizes = new long[8];
        final java.util.TreeMap<Long, java.util.ArrayDeque<Integer>> freeBySize = new java.util.TreeMap<>();
        int buffers = 0;
        long live = 0;
        long peak = 0;
        int peakAt = -1;
        int states = 0;
        int peakStates = 0;
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    if (holder[l] >= 0) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " is already live");
                    }
                    // Free buffers by size, each size a stack: O(log buffers) per action, deterministic.
                    int best;
                    java.util.Map.Entry<Long, java.util.ArrayDeque<Integer>> fit = freeBySize.ceilingEntry(size[l]);
                    if (fit == null) {
                        fit = freeBySize.lastEntry();
                    }
                    if (fit != null) {
                        best = fit.getValue().pop();
                        if (fit.getValue().isEmpty()) {
                            freeBySize.remove(fit.getKey());
                        }
                        sizes[best] = Math.max(sizes[best], size[l]);
                    } else {
                        if (buffers == sizes.length) {
                            sizes = Arrays.copyOf(sizes, 2 * buffers);
                        }
                        best = buffers++;
                        sizes[best] = size[l];
                    }
                    holder[l] = best;
                    bufferOf[i] = best;
                    live += stateBytes[l];
                    states++;
                    peakStates = Math.max(peakStates, states);
                    if (live > peak) {
                        peak = live;
                        peakAt = i;
                    }
                }
                case DROP -> {
                    if (holder[l] < 0) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " is not live");
                    }
                    freeBySize.computeIfAbsent(sizes[holder[l]], k -> new java.util.ArrayDeque<>()).push(holder[l]);
                    holder[l] = -1;
                    live -= stateBytes[l];
                    states--;
                }
                default -> {
                }
            }
            liveAfter[i] = live;
        }
        final long[] bufferSizes = Arrays.copyOf(sizes, buffers);
        long allocated = 0;
        for (long s : bufferSizes) {
            allocated += bytesOf.applyAsLong(s);
        }
        // Which buffers the live states occupy at the peak: replay the assignment up to it.
        final int[] peakHolders = new int[layers + 1];
        Arrays.fill(peakHolders, -1);
        for (int i = 0; i <= peakAt; i++) {
            if (plan.op(i) == Plan.Op.FORWARD) {
                peakHolders[plan.layer(i)] = bufferOf[i];
            } else if (plan.op(i) == Plan.Op.DROP) {
                peakHolders[plan.layer(i)] = -1;
            }
        }
        long occupied = 0;
        for (int l = 1; l <= layers; l++) {
            if (peakHolders[l] >= 0) {
                occupied += bytesOf.applyAsLong(bufferSizes[peakHolders[l]]);
            }
        }
        return new Simulation(liveAfter, peak, peakAt, peakStates, bufferSizes, bufferOf, allocated, occupied);
    }

    /** Answers the bytes of live states right after action {@code i}. */
    public long liveBytesAfter(int i) {
        return liveAfter[i];
    }

    /** Answers the most bytes of states live at once. */
    public long peakBytes() {
        return peakBytes;
    }

    /** Answers the first action after which {@link #peakBytes()} is live (-1 for a plan with no forward). */
    public int peakAction() {
        return peakAction;
    }

    /** Answers the most states live at once. */
    public int peakStates() {
        return peakStates;
    }

    /** Answers how many buffers an executor allocates: {@link #peakStates()}. */
    public int buffers() {
        return bufferSizes.length;
    }

    /** Answers the size of buffer {@code b} (the largest state it holds). */
    public long bufferSize(int b) {
        return bufferSizes[b];
    }

    /** Answers the buffer forward action {@code i} writes, or -1 if action i is not a forward. */
    public int bufferOf(int i) {
        return bufferOf[i];
    }

    /**
     * Answers the bytes of the buffers that hold the live states right after {@link #peakAction()}:
     * {@link #peakBytes()} when every state sits in a buffer of its own size, more when a smaller
     * state reuses a larger buffer. What a measurement of the live arrays at that moment finds.
     */
    public long occupiedBytesAtPeak() {
        return occupiedAtPeak;
    }

    /** Answers the bytes of all buffers: what an executor allocates for states, at least {@link #peakBytes()}. */
    public long allocatedBytes() {
        return allocatedBytes;
    }
}
