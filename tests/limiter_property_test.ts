// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * Property tests of `CapacityLimiter`: random interleavings of acquire,
 * tryAcquire, release, resize and cancellation (by signal, by the caller's
 * own scope, by an enclosing scope), run step by step against a reference
 * model of a FIFO-fair token pool.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope, CapacityLimiter, type Permit } from "../mod.ts";
import { flush } from "./_helpers.ts";

/**
 * How an acquire can be cancelled: not at all, by its own signal, by its own
 * scope, or by cancelling the group scope it runs in (shared by every "group"
 * acquire of a run).
 */
type Kind = "plain" | "signal" | "scope" | "group";
type State = "waiting" | "held" | "released" | "rejected";

type Op =
  | { type: "acquire"; kind: Kind }
  | { type: "tryAcquire" }
  | { type: "release"; pick: number }
  | { type: "cancel"; pick: number }
  | { type: "resize"; total: number }
  | { type: "cancelGroup" }
  | { type: "releaseThenCancel"; release: number; cancel: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant("acquire" as const),
      kind: fc.constantFrom<Kind>("plain", "signal", "scope", "group"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("tryAcquire" as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("release" as const), pick: fc.nat(20) }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant("cancel" as const), pick: fc.nat(5) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("resize" as const),
      total: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("cancelGroup" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("releaseThenCancel" as const),
      release: fc.nat(20),
      cancel: fc.nat(3),
    }),
  },
);

interface Actor {
  id: number;
  kind: Kind;
  state: State;
  permit: Permit | undefined;
  controller: AbortController | undefined;
  scope: CancelScope | undefined;
}

/** A FIFO-fair token pool, written as plainly as possible. */
class Model {
  free: number;
  readonly queue: number[] = [];
  readonly held = new Set<number>();
  readonly states = new Map<number, State>();
  readonly grantOrder: number[] = [];
  groupCancelled = false;

  constructor(total: number) {
    this.free = total;
  }

  #grant(id: number): void {
    this.free--;
    this.held.add(id);
    this.states.set(id, "held");
    this.grantOrder.push(id);
  }

  #grantWaiters(): void {
    while (this.free > 0 && this.queue.length > 0) this.#grant(this.queue.shift()!);
  }

  acquire(id: number, kind: Kind): void {
    if (kind === "group" && this.groupCancelled) {
      this.states.set(id, "rejected");
    } else if (this.free > 0 && this.queue.length === 0) {
      this.#grant(id);
    } else {
      this.states.set(id, "waiting");
      this.queue.push(id);
    }
  }

  tryAcquire(id: number): boolean {
    if (this.free > 0 && this.queue.length === 0) {
      this.#grant(id);
      return true;
    }
    return false;
  }

  release(id: number): void {
    this.held.delete(id);
    this.states.set(id, "released");
    this.free++;
    this.#grantWaiters();
  }

  /** Cancelling a waiter removes it; cancelling a holder changes nothing. */
  cancel(id: number): void {
    const at = this.queue.indexOf(id);
    if (at === -1) return;
    this.queue.splice(at, 1);
    this.states.set(id, "rejected");
  }

  resize(total: number): void {
    this.free = total - this.held.size;
    this.#grantWaiters();
  }
}

/** One run: the limiter under test, its actors and the model. */
class Harness {
  readonly limiter: CapacityLimiter;
  readonly model: Model;
  readonly actors: Actor[] = [];
  readonly grantOrder: number[] = [];
  readonly runs: Promise<unknown>[] = [];
  readonly group = new CancelScope();
  readonly #jobs: Array<() => void> = [];
  #wakePump: (() => void) | undefined;
  #stopped = false;
  readonly #groupRun: Promise<unknown>;

  constructor(total: number) {
    this.limiter = new CapacityLimiter(total);
    this.model = new Model(total);
    // A pump that runs jobs with the group scope ambient.
    this.#groupRun = this.group.run(async () => {
      while (!this.#stopped) {
        if (this.#jobs.length === 0) {
          await new Promise<void>((resolve) => (this.#wakePump = resolve));
        }
        for (let job = this.#jobs.shift(); job !== undefined; job = this.#jobs.shift()) job();
      }
    });
  }

  #newActor(kind: Kind): Actor {
    const actor: Actor = {
      id: this.actors.length,
      kind,
      state: "waiting",
      permit: undefined,
      controller: undefined,
      scope: undefined,
    };
    this.actors.push(actor);
    return actor;
  }

  #follow(actor: Actor, acquired: Promise<Permit>): Promise<Permit> {
    acquired.then(
      (permit) => {
        assert.equal(actor.state, "waiting", `actor ${actor.id} granted twice`);
        actor.state = "held";
        actor.permit = permit;
        this.grantOrder.push(actor.id);
      },
      () => {
        assert.equal(actor.state, "waiting", `actor ${actor.id} settled twice`);
        actor.state = "rejected";
      },
    );
    return acquired;
  }

  acquire(kind: Kind): void {
    const actor = this.#newActor(kind);
    this.model.acquire(actor.id, kind);
    if (kind === "plain") {
      this.#follow(actor, this.limiter.acquire());
    } else if (kind === "signal") {
      actor.controller = new AbortController();
      this.#follow(actor, this.limiter.acquire({ signal: actor.controller.signal }));
    } else if (kind === "scope") {
      const scope = actor.scope = new CancelScope();
      this.runs.push(scope.run(() => this.#follow(actor, this.limiter.acquire())));
    } else {
      this.#jobs.push(() => this.#follow(actor, this.limiter.acquire()));
      this.#wakePump?.();
      this.#wakePump = undefined;
    }
  }

  tryAcquire(): void {
    const expected = this.model.free > 0 && this.model.queue.length === 0;
    const permit = this.limiter.tryAcquire();
    assert.equal(permit !== undefined, expected, "tryAcquire outcome");
    if (permit === undefined) return;
    const actor = this.#newActor("plain");
    actor.state = "held";
    actor.permit = permit;
    this.grantOrder.push(actor.id);
    assert.equal(this.model.tryAcquire(actor.id), true);
  }

  /** The holder picked by `pick`, in the model's view. */
  #holder(pick: number): Actor | undefined {
    const held = [...this.model.held].sort((a, b) => a - b);
    return held.length === 0 ? undefined : this.actors[held[pick % held.length]];
  }

  release(pick: number): void {
    const actor = this.#holder(pick);
    if (actor === undefined) return;
    assert.notEqual(actor.permit, undefined, `actor ${actor.id} should hold a permit`);
    actor.permit!.release();
    actor.state = "released";
    this.model.release(actor.id);
  }

  /**
   * The actor picked by `pick` for cancellation: a waiter (most likely the
   * first, the one a release hands a token to) if any waits, else anyone.
   */
  #victim(pick: number): Actor | undefined {
    const queue = this.model.queue;
    if (queue.length > 0) return this.actors[queue[pick % queue.length]];
    return this.actors.length === 0 ? undefined : this.actors[pick % this.actors.length];
  }

  /** Cancels the picked actor by its own means (plain and group ones have none). */
  cancel(pick: number): void {
    const actor = this.#victim(pick);
    if (actor === undefined) return;
    if (actor.controller !== undefined) actor.controller.abort(new Error(`abort ${actor.id}`));
    else if (actor.scope !== undefined) actor.scope.cancel();
    else return;
    this.model.cancel(actor.id);
  }

  cancelGroup(): void {
    this.group.cancel();
    this.model.groupCancelled = true;
    for (const actor of this.actors) {
      if (actor.kind === "group") this.model.cancel(actor.id);
    }
  }

  resize(total: number): void {
    this.limiter.totalTokens = total;
    this.model.resize(total);
  }

  /** Runs one step, then checks every invariant once promises have settled. */
  async step(op: Op): Promise<void> {
    const borrowedBefore = this.limiter.borrowedTokens;
    switch (op.type) {
      case "acquire":
        this.acquire(op.kind);
        break;
      case "tryAcquire":
        this.tryAcquire();
        break;
      case "release":
        this.release(op.pick);
        break;
      case "cancel":
        this.cancel(op.pick);
        break;
      case "resize":
        this.resize(op.total);
        break;
      case "cancelGroup":
        this.cancelGroup();
        break;
      case "releaseThenCancel": {
        // Same tick: the released token may be handed to the very waiter that
        // is cancelled next; it must then pass on. The model sees the cancel first.
        const holder = this.#holder(op.release);
        const victim = this.#victim(op.cancel);
        if (holder !== undefined) holder.permit!.release();
        if (victim?.controller !== undefined) victim.controller.abort(new Error("same tick"));
        else if (victim?.scope !== undefined) victim.scope.cancel();
        if (victim !== undefined && victim.kind !== "plain" && victim.kind !== "group") {
          this.model.cancel(victim.id);
        }
        if (holder !== undefined) {
          holder.state = "released";
          this.model.release(holder.id);
        }
        break;
      }
    }
    // A grant only ever happens while borrowed < total.
    const total = this.limiter.totalTokens;
    assert.ok(
      this.limiter.borrowedTokens <= Math.max(borrowedBefore, total),
      `borrowed ${this.limiter.borrowedTokens} > max(${borrowedBefore}, ${total})`,
    );
    await flush(20);
    this.check();
  }

  check(): void {
    const { limiter, model } = this;
    for (const actor of this.actors) {
      assert.equal(actor.state, model.states.get(actor.id), `state of actor ${actor.id}`);
    }
    const live = this.actors.filter((a) => a.state === "held").length;
    assert.equal(limiter.borrowedTokens, live, "borrowed == live permits");
    assert.equal(limiter.borrowedTokens, model.held.size);
    assert.equal(limiter.waiting, model.queue.length, "waiting");
    assert.equal(limiter.availableTokens, Math.max(0, model.free), "available");
    if (limiter.waiting > 0) assert.equal(limiter.availableTokens, 0, "idle token while waiting");
    assert.deepEqual(this.grantOrder, model.grantOrder, "FIFO grant order");
  }

  /** Releases everything until nobody waits, then ends every scope. */
  async finish(): Promise<void> {
    for (let round = 0; round < 1_000 && this.model.held.size > 0; round++) {
      for (const id of [...this.model.held]) {
        this.actors[id].permit!.release();
        this.actors[id].state = "released";
        this.model.release(id);
      }
      await flush(20);
      this.check();
    }
    assert.equal(this.limiter.waiting, 0, "nothing left waiting");
    assert.equal(this.limiter.borrowedTokens, 0, "every token back");
    assert.equal(this.limiter.availableTokens, this.limiter.totalTokens);
    this.#stopped = true;
    this.#wakePump?.();
    await Promise.all([...this.runs, this.#groupRun]);
  }
}

Deno.test("random interleavings of acquire, release, resize and cancellation match a FIFO token-pool model", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.array(opArbitrary, { minLength: 1, maxLength: 60, size: "max" }),
      async (total, ops) => {
        const harness = new Harness(total);
        for (const op of ops) await harness.step(op);
        await harness.finish();
      },
    ),
    { numRuns: 1_000 },
  );
});

Deno.test("waiters aborted in the same tick as tokens are released reject, and the tokens go to the next waiters in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.array(
        fc.record({ abort: fc.boolean(), byScope: fc.boolean() }),
        { minLength: 1, maxLength: 8 },
      ),
      fc.nat(),
      fc.array(fc.boolean(), { maxLength: 24 }),
      async (total, waiterSpecs, releaseSeed, interleave) => {
        const limiter = new CapacityLimiter(total);
        const holders: Permit[] = [];
        for (let i = 0; i < total; i++) holders.push(limiter.tryAcquire()!);
        const outcomes: Array<"waiting" | "granted" | "rejected"> = [];
        const permits: Permit[] = [];
        const runs: Promise<unknown>[] = [];
        const cancels: Array<() => void> = [];
        const grantOrder: number[] = [];
        waiterSpecs.forEach((spec, i) => {
          outcomes.push("waiting");
          const follow = (p: Promise<Permit>) =>
            p.then((permit) => {
              outcomes[i] = "granted";
              permits.push(permit);
              grantOrder.push(i);
            }, () => {
              outcomes[i] = "rejected";
            });
          if (spec.byScope) {
            const scope = new CancelScope();
            runs.push(scope.run(() => follow(limiter.acquire())));
            if (spec.abort) cancels.push(() => scope.cancel());
          } else {
            const controller = new AbortController();
            follow(limiter.acquire({ signal: controller.signal }));
            if (spec.abort) cancels.push(() => controller.abort());
          }
        });
        await flush(20);
        assert.equal(limiter.waiting, waiterSpecs.length);
        // In one synchronous stretch: release k tokens and cancel the chosen
        // waiters, in a random interleaving.
        const k = releaseSeed % (total + 1);
        const releases = holders.slice(0, k).map((p) => () => p.release());
        const events: Array<() => void> = [];
        let r = 0, c = 0;
        for (const pickRelease of interleave) {
          if (pickRelease && r < releases.length) events.push(releases[r++]);
          else if (!pickRelease && c < cancels.length) events.push(cancels[c++]);
        }
        while (r < releases.length) events.push(releases[r++]);
        while (c < cancels.length) events.push(cancels[c++]);
        for (const event of events) event();
        await flush(40);

        const survivors = waiterSpecs.flatMap((spec, i) => spec.abort ? [] : [i]);
        const expectedGranted = survivors.slice(0, Math.min(k, survivors.length));
        waiterSpecs.forEach((spec, i) => {
          const expected = spec.abort
            ? "rejected"
            : expectedGranted.includes(i)
            ? "granted"
            : "waiting";
          assert.equal(outcomes[i], expected, `waiter ${i}`);
        });
        assert.deepEqual(grantOrder, expectedGranted, "FIFO among survivors");
        assert.equal(limiter.borrowedTokens, total - k + expectedGranted.length);
        assert.equal(limiter.waiting, survivors.length - expectedGranted.length);
        assert.equal(
          limiter.availableTokens,
          total - limiter.borrowedTokens,
          "no token lost or double-granted",
        );

        // Release everything: every remaining waiter is served, nothing is left.
        for (const p of holders.slice(k)) p.release();
        for (let round = 0; round < 20 && limiter.borrowedTokens > 0; round++) {
          for (const p of permits.splice(0)) p.release();
          await flush(20);
        }
        assert.equal(outcomes.filter((o) => o === "waiting").length, 0);
        assert.equal(limiter.waiting, 0);
        assert.equal(limiter.borrowedTokens, 0);
        assert.equal(limiter.availableTokens, total);
        await Promise.all(runs);
      },
    ),
    { numRuns: 500 },
  );
});
