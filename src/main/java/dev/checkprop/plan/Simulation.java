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
 * A read {@code R l} takes a heap buffer by the same rule as a forward: from the action on, the state
 * counts in the heap, whether or not an executor has filled the buffer yet.
 *
 * <h2>NOTE [Tier slots]</h2>
 * A write {@code W l@tier} holds a copy of the state of layer l in a <em>slot</em> of that tier,
 * chosen by the same rule among the tier's free slots; {@code X l} frees it, and a read names the
 * slot it reads. So per tier: the bytes of copies held after every action, their peak, and the slots
 * an executor allocates once (off-heap buffers, spill-file regions). A tier copy is sized by its own
 * function of the state size (an executor's copies have no array headers), given apart from the
 * heap's.
 *
 * <p>Immutable. Building one costs O(actions &middot; log buffers) time and an int per action.
 */
public final class Simulation {

    private static final Tier[] TIERS = Tier.values();

    private final long[] liveAfter;
    private final long peakBytes;
    private final int peakAction;
    private final int peakStates;
    private final long[] bufferSizes;
    private final int[] bufferOf;
    private final long allocatedBytes;
    private final long occupiedAtPeak;
    /** Per tier (index ordinal), null for a plan without tier actions. */
    private final TierWalk[] tiers;
    /** The slot of each write and read (in its tier), -1 elsewhere; null without tier actions. */
    private final int[] slotOf;
    /** The tier of each write and read (ordinal), -1 elsewhere; null without tier actions. */
    private final byte[] tierOf;

    /** What one tier's walk found. */
    private record TierWalk(long[] liveAfter, long peakBytes, int peakAction, int peakCopies, long[] slotSizes,
                            long allocatedBytes) {
    }

    private Simulation(long[] liveAfter, long peakBytes, int peakAction, int peakStates, long[] bufferSizes,
                       int[] bufferOf, long allocatedBytes, long occupiedAtPeak, TierWalk[] tiers, int[] slotOf,
                       byte[] tierOf) {
        this.tierOf = tierOf;
        this.occupiedAtPeak = occupiedAtPeak;
        this.liveAfter = liveAfter;
        this.peakBytes = peakBytes;
        this.peakAction = peakAction;
        this.peakStates = peakStates;
        this.bufferSizes = bufferSizes;
        this.bufferOf = bufferOf;
        this.allocatedBytes = allocatedBytes;
        this.tiers = tiers;
        this.slotOf = slotOf;
    }

    /**
     * Buffers (or slots) of varying sizes and the free ones among them, by NOTE [Buffers]: free ones
     * by size, each size a stack, so O(log buffers) per action and deterministic.
     */
    private static final class Pool {
        long[] sizes = new long[8];
        int count;
        private final java.util.TreeMap<Long, java.util.ArrayDeque<Integer>> freeBySize = new java.util.TreeMap<>();

        /** Answers the buffer a state of {@code size} takes, growing or adding one as NOTE [Buffers] says. */
        int take(long size) {
            int best;
            java.util.Map.Entry<Long, java.util.ArrayDeque<Integer>> fit = freeBySize.ceilingEntry(size);
            if (fit == null) {
                fit = freeBySize.lastEntry();
            }
            if (fit != null) {
                best = fit.getValue().pop();
                if (fit.getValue().isEmpty()) {
                    freeBySize.remove(fit.getKey());
                }
                sizes[best] = Math.max(sizes[best], size);
            } else {
                if (count == sizes.length) {
                    sizes = Arrays.copyOf(sizes, 2 * count);
                }
                best = count++;
                sizes[best] = size;
            }
            return best;
        }

        void free(int b) {
            freeBySize.computeIfAbsent(sizes[b], k -> new java.util.ArrayDeque<>()).push(b);
        }

        long[] sizes() {
            return Arrays.copyOf(sizes, count);
        }
    }

    /**
     * Walks {@code plan}, sizing tier copies as heap states ({@code bytesOf} for both): what a
     * planner's chain needs, where a state's bytes are the only figure.
     *
     * @see #of(Plan, long[], LongUnaryOperator, LongUnaryOperator)
     */
    public static Simulation of(Plan plan, long[] size, LongUnaryOperator bytesOf) {
        return of(plan, size, bytesOf, bytesOf);
    }

    /**
     * Walks {@code plan}.
     *
     * @param size        size(l) of the state of layer l, index l (index 0 unused), each positive
     * @param bytesOf     the heap bytes one state of a given size occupies (all its arrays, headers included)
     * @param tierBytesOf the bytes one tier copy of a state of a given size occupies (the same in every tier)
     * @throws IllegalArgumentException if {@code size} does not have L + 1 entries
     * @throws InvalidPlanException     if the plan drops a state that is not live or computes one that is
     */
    public static Simulation of(Plan plan, long[] size, LongUnaryOperator bytesOf, LongUnaryOperator tierBytesOf) {
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
        final Pool heap = new Pool();
        long live = 0;
        long peak = 0;
        int peakAt = -1;
        int states = 0;
        int peakStates = 0;
        // Tier copies: only for plans that have them, so a heap-only plan costs what it always did.
        final boolean tiered = plan.usesTiers();
        final int[] slotOf = tiered ? new int[plan.size()] : null;
        final byte[] tierOf = tiered ? new byte[plan.size()] : null;
        final long[][] tierLive = tiered ? new long[TIERS.length][plan.size()] : null;
        final Pool[] slots = new Pool[TIERS.length];
        final long[] tierNow = new long[TIERS.length];
        final long[] tierPeak = new long[TIERS.length];
        final int[] tierPeakAt = new int[TIERS.length];
        final int[] copiesNow = new int[TIERS.length];
        final int[] peakCopies = new int[TIERS.length];
        final int[] copySlot = tiered ? new int[layers + 1] : null;
        final Tier[] copyTier = tiered ? new Tier[layers + 1] : null;
        if (tiered) {
            Arrays.fill(slotOf, -1);
            Arrays.fill(tierOf, (byte) -1);
            Arrays.fill(tierPeakAt, -1);
            for (int t = 0; t < TIERS.length; t++) {
                slots[t] = new Pool();
            }
        }
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD, READ -> {
                    if (holder[l] >= 0) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " is already live");
                    }
                    final int best = heap.take(size[l]);
                    holder[l] = best;
                    bufferOf[i] = best;
                    live += stateBytes[l];
                    states++;
                    peakStates = Math.max(peakStates, states);
                    if (live > peak) {
                        peak = live;
                        peakAt = i;
                    }
                    if (plan.op(i) == Plan.Op.READ) {
                        if (copyTier[l] == null) {
                            throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " has no tier copy");
                        }
                        slotOf[i] = copySlot[l];
                        tierOf[i] = (byte) copyTier[l].ordinal();
                    }
                }
                case DROP -> {
                    if (holder[l] < 0) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " is not live");
                    }
                    heap.free(holder[l]);
                    holder[l] = -1;
                    live -= stateBytes[l];
                    states--;
                }
                case WRITE -> {
                    final Tier tier = plan.tier(i);
                    final int t = tier.ordinal();
                    if (copyTier[l] != null) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " already has a tier copy");
                    }
                    copyTier[l] = tier;
                    copySlot[l] = slots[t].take(size[l]);
                    slotOf[i] = copySlot[l];
                    tierOf[i] = (byte) t;
                    tierNow[t] += tierBytesOf.applyAsLong(size[l]);
                    copiesNow[t]++;
                    peakCopies[t] = Math.max(peakCopies[t], copiesNow[t]);
                    if (tierNow[t] > tierPeak[t]) {
                        tierPeak[t] = tierNow[t];
                        tierPeakAt[t] = i;
                    }
                }
                case DISCARD -> {
                    if (copyTier[l] == null) {
                        throw new InvalidPlanException(plan.name(), i, plan.action(i), "a" + l + " has no tier copy");
                    }
                    final int t = copyTier[l].ordinal();
                    slots[t].free(copySlot[l]);
                    tierNow[t] -= tierBytesOf.applyAsLong(size[l]);
                    copiesNow[t]--;
                    copyTier[l] = null;
                }
                default -> {
                }
            }
            liveAfter[i] = live;
            if (tiered) {
                for (int t = 0; t < TIERS.length; t++) {
                    tierLive[t][i] = tierNow[t];
                }
            }
        }
        final long[] bufferSizes = heap.sizes();
        long allocated = 0;
        for (long s : bufferSizes) {
            allocated += bytesOf.applyAsLong(s);
        }
        // Which buffers the live states occupy at the peak: replay the assignment up to it.
        final int[] peakHolders = new int[layers + 1];
        Arrays.fill(peakHolders, -1);
        for (int i = 0; i <= peakAt; i++) {
            if (plan.op(i) == Plan.Op.FORWARD || plan.op(i) == Plan.Op.READ) {
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
        TierWalk[] walks = null;
        if (tiered) {
            walks = new TierWalk[TIERS.length];
            for (int t = 0; t < TIERS.length; t++) {
                final long[] slotSizes = slots[t].sizes();
                long tierAllocated = 0;
                for (long s : slotSizes) {
                    tierAllocated += tierBytesOf.applyAsLong(s);
                }
                walks[t] = new TierWalk(tierLive[t], tierPeak[t], tierPeakAt[t], peakCopies[t], slotSizes, tierAllocated);
            }
        }
        return new Simulation(liveAfter, peak, peakAt, peakStates, bufferSizes, bufferOf, allocated, occupied, walks, slotOf,
                tierOf);
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

    /** Answers the buffer forward or read action {@code i} fills, or -1 if action i is neither. */
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

    /** Whether the plan has tier actions (otherwise every tier figure is 0). */
    public boolean usesTiers() {
        return tiers != null;
    }

    /** Answers the bytes of copies held in {@code tier} right after action {@code i}. */
    public long tierBytesAfter(Tier tier, int i) {
        return tiers == null ? 0 : tiers[tier.ordinal()].liveAfter[i];
    }

    /** Answers the most bytes of copies held in {@code tier} at once. */
    public long tierPeakBytes(Tier tier) {
        return tiers == null ? 0 : tiers[tier.ordinal()].peakBytes;
    }

    /** Answers the first action after which {@link #tierPeakBytes} is held, or -1 if the tier is unused. */
    public int tierPeakAction(Tier tier) {
        return tiers == null ? -1 : tiers[tier.ordinal()].peakAction;
    }

    /** Answers the most copies held in {@code tier} at once: the slots it needs. */
    public int tierPeakCopies(Tier tier) {
        return tiers == null ? 0 : tiers[tier.ordinal()].peakCopies;
    }

    /** Answers how many slots an executor allocates in {@code tier}. */
    public int tierSlots(Tier tier) {
        return tiers == null ? 0 : tiers[tier.ordinal()].slotSizes.length;
    }

    /** Answers the size of slot {@code s} of {@code tier} (the largest state it holds, in the unit of the sizes). */
    public long tierSlotSize(Tier tier, int s) {
        return tiers[tier.ordinal()].slotSizes[s];
    }

    /** Answers the bytes of all slots of {@code tier}: what an executor allocates there, at least {@link #tierPeakBytes}. */
    public long tierAllocatedBytes(Tier tier) {
        return tiers == null ? 0 : tiers[tier.ordinal()].allocatedBytes;
    }

    /**
     * Answers the slot write action {@code i} fills or read action {@code i} reads (in the tier the
     * copy was written to), or -1 if action i is neither.
     */
    public int tierSlotOf(int i) {
        return slotOf == null ? -1 : slotOf[i];
    }

    /** Answers the tier write action {@code i} fills or read action {@code i} reads, or null if action i is neither. */
    public Tier tierOf(int i) {
        return tierOf == null || tierOf[i] < 0 ? null : TIERS[tierOf[i]];
    }
}
