/**
 * @file Small IR programs several test files run.
 */

/** A while loop whose condition never becomes false (the counter steps by 2 past -1): for deadlines. */
export const ENDLESS_WHILE = `func.func @main(%x: tensor<i32>) -> tensor<i32> {
  %0 = stablehlo.while(%i = %x) : tensor<i32>
  cond {
    %z = stablehlo.constant dense<-1> : tensor<i32>
    %t = stablehlo.compare NE, %i, %z, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
    stablehlo.return %t : tensor<i1>
  } do {
    %c = stablehlo.constant dense<2> : tensor<i32>
    %n = stablehlo.add %i, %c : tensor<i32>
    stablehlo.return %n : tensor<i32>
  }
  return %0 : tensor<i32>
}`;
