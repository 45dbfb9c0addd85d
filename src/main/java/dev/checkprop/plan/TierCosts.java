package dev.checkprop.plan;

/**
 * What one {@link Tier} offers a plan, measured or given: how much it holds and how fast a state
 * moves to and from it. Immutable; part of a {@link StepTimeModel}.
 *
 * <p>A transfer of b bytes takes {@code latencyNanos + ceil(b * 10^9 / bandwidth)} nanoseconds on the
 * executor's I/O thread ({@link StepTimes} rounds it once per layer; everything after is exact).
 *
 * @param capacityBytes        the most bytes of tier copies held at once; at least 0 (0: the tier is not used)
 * @param writeBytesPerSecond  bandwidth of a write (heap buffer to tier), at least 1
 * @param readBytesPerSecond   bandwidth of a read (tier to a heap buffer), at least 1
 * @param latencyNanos         fixed cost of one transfer in either direction, at least 0
 */
public record TierCosts(long capacityBytes, long writeBytesPerSecond, long readBytesPerSecond, long latencyNanos) {

    /**
     * @throws IllegalArgumentException naming the value that is out of range
     */
    public TierCosts {
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("tier capacity must be at least 0 bytes, got " + capacityBytes);
        }
        if (writeBytesPerSecond < 1 || readBytesPerSecond < 1) {
            throw new IllegalArgumentException("tier bandwidths must be at least 1 byte/s, got write "
                    + writeBytesPerSecond + ", read " + readBytesPerSecond);
        }
        if (latencyNanos < 0) {
            throw new IllegalArgumentException("tier latency must be at least 0 ns, got " + latencyNanos);
        }
    }

    /** Answers the same speeds with another capacity. */
    public TierCosts withCapacity(long bytes) {
        return new TierCosts(bytes, writeBytesPerSecond, readBytesPerSecond, latencyNanos);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s, write %.0f MB/s, read %.0f MB/s, latency %d us",
                Planners.humanBytes(capacityBytes), writeBytesPerSecond / 1e6, readBytesPerSecond / 1e6,
                latencyNanos / 1000);
    }
}
