/**
 * Stream time of a partition: the largest event time seen on it, stored with the partition's
 * progress. It decides nothing in the runtime: lateness is the logic's to judge (the fraud
 * logic measures it per customer), and the windows stage keeps a watermark of its own.
 */
export const NO_EVENT_TIME = Number.NEGATIVE_INFINITY
