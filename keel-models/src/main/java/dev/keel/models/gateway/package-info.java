/**
 * The model gateway: declarative routes, fallback chains, circuit breakers, retry budget, response
 * cache, price table and token counter.
 */
@NullMarked
package dev.keel.models.gateway;

import org.jspecify.annotations.NullMarked;
