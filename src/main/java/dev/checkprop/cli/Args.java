package dev.checkprop.cli;

/** Range checks of numeric options shared by several commands; each names the option and its limit. */
final class Args {

    /** Most timed steps {@code grad --repeat} runs: each keeps its time for the median. */
    static final int MAX_REPEAT = 100_000;

    /** Most threads an executor is given: more than this only adds waiting (and native memory per thread). */
    static final int MAX_THREADS = 1024;

    private Args() {
    }

    /** The thread count: the option's value if given (checked), else every core. */
    static int threads(Integer threads) {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("--threads must be between 1 and " + MAX_THREADS + ", got " + threads);
        }
        return threads;
    }

    /** Checks {@code grad --repeat} and {@code --warmup}. */
    static void repeat(int repeat, int warmup) {
        if (repeat < 1 || repeat > MAX_REPEAT) {
            throw new IllegalArgumentException("--repeat must be between 1 and " + MAX_REPEAT + ", got " + repeat);
        }
        if (warmup < 0 || warmup > MAX_REPEAT) {
            throw new IllegalArgumentException("--warmup must be between 0 and " + MAX_REPEAT + ", got " + warmup);
        }
    }
}
