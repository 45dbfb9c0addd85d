package dev.checkprop.nn;

/**
 * Counter-based random numbers: a value is a pure function of (seed, stream, index), computed with
 * the SplitMix64 finaliser. There is no generator state, so any value can be reproduced on its own
 * (for example when a segment of the network is recomputed), and the result does not depend on the
 * JDK's {@code Random} implementations.
 */
public final class Seeds {

    private Seeds() {
    }

    /** The SplitMix64 finaliser (Steele, Lea and Flood, OOPSLA 2014): a bijective 64-bit mix. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Answers 64 random bits for (seed, stream, index). */
    public static long bits(long seed, long stream, long index) {
        return mix(mix(mix(seed) + stream * 0x9E3779B97F4A7C15L) + index);
    }

    /** Answers a float uniform in [0, 1) with 24 random bits, for (seed, stream, index). */
    public static float uniform(long seed, long stream, long index) {
        return (bits(seed, stream, index) >>> 40) * 0x1.0p-24f;
    }
}
