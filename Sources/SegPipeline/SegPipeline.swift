import UniverSeg
import VolumeIO
