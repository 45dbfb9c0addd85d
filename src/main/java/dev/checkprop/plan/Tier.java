package dev.checkprop.plan;

import java.util.Locale;

/**
 * Where a plan may keep a copy of a state outside the Java heap ({@link Plan.Op#WRITE}): memory the
 * JVM allocates outside its heap, or a file. A tier copy is exactly a state as {@code StateModel}
 * counts it (a<sup>l</sup> and its tape, with its R-image in curvature mode), so reading it back gives
 * the same bits; see {@code docs/tiers.md}.
 */
public enum Tier {
    /** Direct (off-heap) memory, bounded by {@code -XX:MaxDirectMemorySize}. */
    OFF_HEAP("offheap"),
    /** Files in a spill directory, bounded by the free space of its file system. */
    DISK("disk");

    private final String text;

    Tier(String text) {
        this.text = text;
    }

    /** Answers the name used in plan text and plan strings: {@code offheap} or {@code disk}. */
    public String text() {
        return text;
    }

    /**
     * Answers the tier named {@code text} ({@code offheap} or {@code disk}, case-insensitive).
     *
     * @throws IllegalArgumentException naming the text and the tiers there are
     */
    public static Tier parse(String text) {
        for (Tier t : values()) {
            if (t.text.equals(text.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown tier '" + text + "' (expected offheap or disk)");
    }

    @Override
    public String toString() {
        return text;
    }
}
