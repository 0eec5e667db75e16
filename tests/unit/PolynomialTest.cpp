// LP-Fusion's algebra: canonical form, simplification, and evaluation that
// matches the unfused expression on random data.
#include "passes/Polynomial.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace canao::poly;

TEST_CASE("canonical form: commutativity, associativity, distributivity",
          "[poly]") {
  Algebra alg;
  Rational x = alg.input(0), y = alg.input(1);
  // (x + y) * (x - y) == x*x - y*y, whatever the order of the operands.
  Rational a = alg.mul(alg.add(x, y), alg.sub(x, y));
  Rational b = alg.sub(alg.mul(x, x), alg.mul(y, y));
  Rational c = alg.add(alg.neg(alg.mul(y, y)), alg.mul(x, x));
  CHECK(alg.str(a) == alg.str(b));
  CHECK(alg.str(b) == alg.str(c));
  CHECK(alg.str(a) == "a0*a0 + -1*a1*a1");
}

TEST_CASE("constant folding and cancellation", "[poly]") {
  Algebra alg;
  Rational x = alg.input(0);
  // (x + 2) - x - 2 == 0; 3 * 4 * x == 12x.
  CHECK(alg.str(alg.sub(alg.sub(alg.add(x, alg.constant(2)), x),
                        alg.constant(2))) == "0");
  CHECK(alg.str(alg.mul(alg.constant(3), alg.mul(alg.constant(4), x))) ==
        "12*a0");
  // erf of a constant is folded to a number.
  CHECK(alg.str(alg.apply(Func::Erf, alg.constant(0))) == "0");
}

TEST_CASE("strength reduction", "[poly]") {
  Algebra alg;
  Rational x = alg.input(0), v = alg.input(1);
  Rational sq;
  REQUIRE(alg.pow(x, 2, sq));
  CHECK(alg.str(sq) == "a0*a0"); // x^2 is x*x
  // Division by a constant is multiplication by its reciprocal.
  CHECK(alg.str(alg.div(x, alg.constant(4))) == "0.25*a0");
  CHECK(alg.div(x, alg.constant(4)).isPolynomial());
  // 1/sqrt(v) is rsqrt(v), so x / sqrt(v) stays a polynomial.
  Rational r = alg.div(x, alg.apply(Func::Sqrt, v));
  CHECK(r.isPolynomial());
  CHECK(alg.str(r) == "a0*rsqrt(a1)");
  Rational bad;
  CHECK_FALSE(alg.pow(x, 1.7, bad)); // no algebraic form: left unfused
}

TEST_CASE("equal sub-expressions are one atom", "[poly]") {
  Algebra alg;
  Rational x = alg.input(0);
  Rational e1 = alg.apply(Func::Erf, alg.div(x, alg.constant(2)));
  Rational e2 = alg.apply(Func::Erf, alg.mul(alg.constant(0.5), x));
  CHECK(alg.str(e1) == alg.str(e2));
  size_t atoms = alg.numAtoms();
  alg.apply(Func::Erf, alg.mul(x, alg.constant(0.5)));
  CHECK(alg.numAtoms() == atoms);
}

TEST_CASE("GELU common factor", "[poly]") {
  Algebra alg;
  Rational x = alg.input(0);
  // x * 0.5 * (1 + erf(x / sqrt(2)))
  Rational g = alg.mul(
      alg.mul(x, alg.constant(0.5)),
      alg.add(alg.constant(1),
              alg.apply(Func::Erf, alg.div(x, alg.constant(std::sqrt(2.0))))));
  CHECK(g.isPolynomial());
  CHECK(g.num.terms.size() == 2);
  Monomial common = g.num.commonFactor();
  REQUIRE(common.size() == 1);
  CHECK(common[0].second == 1); // x factors out of both terms
}

TEST_CASE("simplified forms evaluate like the unfused chain", "[poly]") {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> dist(-3, 3);
  for (int trial = 0; trial < 200; ++trial) {
    double x = dist(rng), y = dist(rng), v = std::fabs(dist(rng)) + 0.1;
    Algebra alg;
    Rational X = alg.input(0), Y = alg.input(1), V = alg.input(2);
    struct Case {
      Rational r;
      double expected;
    };
    Rational sq;
    REQUIRE(alg.pow(alg.sub(X, Y), 2, sq));
    std::vector<Case> cases = {
        // GELU (erf)
        {alg.mul(alg.mul(X, alg.constant(0.5)),
                 alg.add(alg.constant(1),
                         alg.apply(Func::Erf,
                                   alg.div(X, alg.constant(std::sqrt(2.0)))))),
         x * 0.5 * (1 + std::erf(x / std::sqrt(2.0)))},
        // GELU (tanh)
        {alg.mul(
             alg.mul(alg.constant(0.5), X),
             alg.add(
                 alg.constant(1),
                 alg.apply(
                     Func::Tanh,
                     alg.mul(alg.constant(0.7978845608),
                             alg.add(X, alg.mul(alg.constant(0.044715),
                                                alg.mul(X, alg.mul(X, X)))))))),
         0.5 * x * (1 + std::tanh(0.7978845608 * (x + 0.044715 * x * x * x)))},
        // mask transform
        {alg.mul(alg.sub(alg.constant(1), X), alg.constant(-10000)),
         (1 - x) * -10000},
        // normalization body
        {alg.div(alg.sub(X, Y),
                 alg.apply(Func::Sqrt, alg.add(V, alg.constant(1e-5)))),
         (x - y) / std::sqrt(v + 1e-5)},
        // rational: (x - y)^2 / (v + x*x)
        {alg.div(sq, alg.add(V, alg.mul(X, X))),
         (x - y) * (x - y) / (v + x * x)},
        // sigmoid and relu atoms
        {alg.add(alg.apply(Func::Sigmoid, X), alg.apply(Func::Relu, Y)),
         1 / (1 + std::exp(-x)) + (y > 0 ? y : 0)},
    };
    for (const Case &c : cases)
      CHECK(alg.eval(c.r, {x, y, v}) ==
            Approx(c.expected).epsilon(1e-9).margin(1e-9));
  }
}
