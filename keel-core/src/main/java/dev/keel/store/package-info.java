/** The store port: the system of record for runs, events, leases and signals. */
@NullMarked
package dev.keel.store;

import org.jspecify.annotations.NullMarked;
