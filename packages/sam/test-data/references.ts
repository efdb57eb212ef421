import type { BoxPrompt, PointPrompt } from "../src";

/** How each reference mask was made: clicks applied one after another, each refining the last. */
export interface ReferenceSpec {
  name: string;
  image: string;
  box?: BoxPrompt;
  points: PointPrompt[];
}

export const REFERENCES: ReferenceSpec[] = [
  {
    name: "dogs-golden",
    image: "dogs.jpg",
    points: [
      { x: 520, y: 380, label: 1 },
      { x: 670, y: 350, label: 0 },
      { x: 529, y: 255, label: 1 },
      { x: 505, y: 470, label: 1 },
      { x: 700, y: 450, label: 0 },
      { x: 600, y: 270, label: 0 },
    ],
  },
  {
    name: "dogs-black",
    image: "dogs.jpg",
    points: [
      { x: 670, y: 350, label: 1 },
      { x: 520, y: 380, label: 0 },
      { x: 615, y: 280, label: 1 },
      { x: 700, y: 480, label: 1 },
      { x: 529, y: 255, label: 0 },
      { x: 505, y: 470, label: 0 },
    ],
  },
  {
    name: "truck",
    image: "truck.jpg",
    box: { x0: 75, y0: 275, x1: 1715, y1: 855 },
    // The box alone also takes the kerb under the truck; these clicks remove it and keep the wheels.
    points: [
      { x: 1000, y: 752, label: 0 },
      { x: 562, y: 743, label: 1 },
      { x: 1520, y: 700, label: 1 },
      { x: 1250, y: 750, label: 0 },
    ],
  },
];
