// Conv/fc schedule of the engine (CONV instruction, docs/engine.md): walks groups, output pixels
// and taps, reads one activation word and one weight word per cycle, drives the PE array and
// accumulates per output pixel. Address generators use adders only; the compiler supplies every
// product (pitch_sh, ncg_sw, in_start). Padding taps feed the centred value 0, so they cost a
// cycle but no special case in the datapath.
//
// Skip mode (h0 bit 6, zero-block inputs): the taps of one pixel are the same offsets for every
// pixel, so they are first written to a tap table (one cycle per tap). Then a generator reads
// SkipLanes taps per cycle from the table, looks up the zero flag of each tap's buffer row (rows
// the zero-block decoder filled with the zero point), and pushes only the taps to compute into a
// FIFO that issues one per cycle: a tap in a zero block costs no cycle and no MAC. A pixel's last
// tap is always pushed (it delivers the result), with its operand forced to zero when it is a
// zero tap.
module gatec_conv_unit #(
  parameter int unsigned PeOc         = 8,
  parameter int unsigned L            = 8,
  parameter int unsigned InAddrWidth  = 16,
  parameter int unsigned WAddrWidth   = 16,
  parameter int unsigned PAddrWidth   = 6,
  parameter int unsigned OutAddrWidth = 16,
  // in-buffer words per buffer row: the zero flags are per row
  parameter int unsigned WordsPerRow  = 2,
  parameter int unsigned FlagRows     = 1024,
  // taps examined per cycle in skip mode (a power of two, at least 2) and tap-table entries
  parameter int unsigned SkipLanes    = 4,
  parameter int unsigned SkipTaps     = 1024,
  // gate mode (gatec_gconv): groups of a gated conv; its receptive-field buffers hold SkipTaps words
  parameter int unsigned MaxGroups    = 32,
  localparam int unsigned LaneIdxWidth = (L > 1) ? $clog2(L) : 1,
  localparam int unsigned WordCntWidth = $clog2(((PeOc > L) ? PeOc / L : 1) + 1),
  localparam int unsigned FlagRowWidth = (FlagRows > 1) ? $clog2(FlagRows) : 1,
  localparam int unsigned ZeroCntWidth = $clog2(SkipLanes + 1)
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        start_i,
  input  logic [511:0]                instr_i,
  output logic                        busy_o,
  // activation word, weight word and param row: each arrives the cycle after its read enable
  output logic                        in_re_o,
  output logic [InAddrWidth-1:0]      in_addr_o,
  input  logic [L*8-1:0]              in_word_i,
  // the next word of the same in-buffer row (gate mode)
  input  logic [L*8-1:0]              in_word2_i,
  output logic                        w_re_o,
  output logic [WAddrWidth-1:0]       w_addr_o,
  input  logic [PeOc*L*8-1:0]         w_word_i,
  output logic                        p_re_o,
  output logic [PAddrWidth-1:0]       p_addr_o,
  input  logic [PeOc*64-1:0]          p_row_i,
  // results towards the requant bank and output writer
  input  logic                        wr_busy_i,
  output logic                        res_valid_o,
  output logic [PeOc*32-1:0]          res_acc_o,
  output logic [PeOc*15-1:0]          res_mult_o,
  output logic [PeOc*6-1:0]           res_shift_o,
  output logic [OutAddrWidth-1:0]     res_addr_o,
  output logic [WordCntWidth-1:0]     res_words_o,
  output logic [OutAddrWidth-1:0]     res_stride_o,
  output logic [LaneIdxWidth-1:0]     res_lane_o,
  output logic signed [7:0]           zp_out_o,
  output logic signed [7:0]           lo_o,
  output logic signed [7:0]           hi_o,
  // zero flags of the in-buffer rows, written with the rows
  input  logic                        zf_we_i,
  input  logic [FlagRowWidth-1:0]     zf_waddr_i,
  input  logic                        zf_wdata_i,
  // taps found in zero blocks this cycle, and the tag of the instruction they belong to
  output logic [ZeroCntWidth-1:0]     zero_taps_o,
  output logic [15:0]                 tag_o,
  // gate mode: a gated-on output activation started its rest pass this cycle
  output logic                        gate_on_o
);
  localparam int unsigned AW = 24;
  localparam int unsigned CW = 18;
  localparam int unsigned WordsPerPixel = (PeOc > L) ? PeOc / L : 1;
  localparam int unsigned PcWidth = $clog2(WordsPerPixel + 1) + 1;
  localparam int unsigned G = SkipLanes;
  localparam int unsigned GW = $clog2(G);
  localparam int unsigned TabRows = SkipTaps / G;
  localparam int unsigned TabRowW = (TabRows > 1) ? $clog2(TabRows) : 1;
  localparam int unsigned TapW = $clog2(SkipTaps + 1);
  localparam int unsigned TabW = InAddrWidth + 16;
  localparam int unsigned FifoDepth = 4 * G;
  localparam int unsigned FifoW = $clog2(FifoDepth);

  typedef enum logic [2:0] {SIdle, SFill, SGroupWait, SGroupLoad, SRun, SFlush, SDrain} state_e;
  state_e state_q;

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  // instruction fields, captured at start
  logic signed [AW-1:0] in_start_q;
  logic [15:0] img_h_q, img_w_q, in_pitch_q, ncg_in_q, ciw0_q, nciw_q, oy_cnt_q, out_w_q;
  logic [7:0]  kh_q, kw_q, sh_q, sw_q, pl_q;
  logic signed [CW-1:0] iy0_q;
  logic [15:0] gstride_q, ng_q, pb0_q, out_base_q, out_pitch_q, ncg_out_q, pitch_sh_q, ncg_sw_q;
  logic [15:0] cw_stride_q, out_cw_stride_q, tag_q;
  logic signed [7:0] zp_in_q, d_zp_out_q, d_lo_q, d_hi_q;
  logic skip_q;

  // loop state
  logic [15:0] gi_q, oy_q, ox_q, j_q;
  logic [7:0]  ky_q, kx_q;
  logic [PcWidth-1:0] pc_q, bub_q;
  logic signed [AW-1:0] a_row_q, a_pix_q, a_trow_q, a_tap_q, a_cur_q;
  logic signed [CW-1:0] iy_row_q, iy_q, ix_pix_q, ix_q;
  logic [AW-1:0] wg_q, wa_q, o_row_q, o_pix_q;
  // the current group's first output word (offset within a pixel) and lane, and the words left
  logic [AW-1:0] cow_q, goff_q;
  logic [LaneIdxWidth-1:0] glane_q;
  logic [15:0] wleft_q;
  // Two parameter sets (bias, multiplier, shift, output words): group gi uses set gi[0], so the
  // next group's row loads while the previous group's last results are still in the pipeline.
  logic [LaneIdxWidth-1:0] lane_q [2];
  logic [WordCntWidth-1:0] words_q [2];
  logic [PeOc*64-1:0] param_q [2];
  logic gsel;
  assign gsel = gi_q[0];

  logic last_j, last_kx, last_ky, last_tap, last_ox, last_oy, last_g, issue, drained;
  assign last_j   = (j_q == nciw_q - 16'd1);
  assign last_kx  = (kx_q == kw_q - 8'd1);
  assign last_ky  = (ky_q == kh_q - 8'd1);
  assign last_tap = last_j && last_kx && last_ky;
  assign last_ox  = (ox_q == out_w_q - 16'd1);
  assign last_oy  = (oy_q == oy_cnt_q - 16'd1);
  assign last_g   = (gi_q == ng_q - 16'd1);
  assign issue    = (state_q == SRun) && !skip_q && (bub_q == '0);

  // ---------------------------------------------------------------- skip mode
  // tap table (filled in SFill) and generator: row r of the table holds taps r*G .. r*G+G-1
  logic [TapW-1:0] t_q, ntaps_q;
  logic [TabRowW-1:0] r_q, last_r_q;
  logic gen_fire, last_row;
  assign last_row = (r_q == last_r_q);

  // stage A: the table row read last cycle, with its pixel's context
  logic vA_q, gA_q;
  logic [TabRowW-1:0] rA_q;
  logic signed [AW-1:0] apixA_q;
  logic signed [CW-1:0] iyA_q, ixA_q;
  logic [OutAddrWidth-1:0] oaddrA_q;
  logic [AW-1:0] wgA_q;
  logic [TabW-1:0] tab_q [G];
  logic [AW-1:0] addrA [G];
  logic [TapW-1:0] tA [G];
  logic [G-1:0] validA, padA;

  // stage B: the taps with their zero flags
  logic vB_q, gB_q, open_q;
  logic [OutAddrWidth-1:0] oaddrB_q;
  logic [InAddrWidth-1:0] addrB_q [G];
  logic [WAddrWidth-1:0] wB_q [G];
  logic [G-1:0] validB_q, padB_q, lastB_q, zfB_q, zeroB, keep, firstB;
  logic [FifoW:0] pos [G];
  logic [FifoW:0] npush;

  // FIFO of taps to compute
  logic [InAddrWidth-1:0]  f_addr_q [FifoDepth];
  logic [WAddrWidth-1:0]   f_w_q [FifoDepth];
  logic [OutAddrWidth-1:0] f_oaddr_q [FifoDepth];
  logic [FifoDepth-1:0]    f_zero_q, f_first_q, f_last_q, f_g_q;
  logic [FifoW-1:0] wptr_q, rptr_q;
  logic [FifoW:0] count_q;
  logic [PcWidth-1:0] gap_q;
  logic pop;

  // room for what the table read, stage A and stage B may still push
  assign gen_fire = (state_q == SRun) && skip_q &&
                    (32'(count_q) + G * (32'(vA_q) + 32'(vB_q) + 1) <= FifoDepth);
  // the output writer needs WordsPerPixel cycles per result
  assign pop = skip_q && (count_q != '0) && !(f_last_q[rptr_q] && gap_q != '0);

  // pipeline side band: S1 (buffer data), S2 (products), S3 (row sums)
  logic v1_q, v2_q, v3_q, pad1_q, first1_q, first2_q, first3_q, last1_q, last2_q, last3_q;
  logic g1_q, g2_q, g3_q, gres_q;
  logic [OutAddrWidth-1:0] oaddr1_q, oaddr2_q, oaddr3_q;
  logic res_valid_q, set_free;
  logic [PeOc*32-1:0] acc_q, res_acc_q;
  logic [OutAddrWidth-1:0] res_addr_q;

  assign drained  = !(v1_q || v2_q || v3_q || res_valid_q || wr_busy_i);
  // no result of the group two back (same parameter set) is still on its way to the requant bank
  assign set_free = !((v1_q && g1_q == gsel) || (v2_q && g2_q == gsel) || (v3_q && g3_q == gsel) ||
                      (res_valid_q && gres_q == gsel));
  logic g_busy;
  assign busy_o  = (state_q != SIdle) || g_busy;
  always_ff @(posedge clk_i) if (start_i) tag_q <= h[1];

  logic tap_pad;
  assign tap_pad = (iy_q < 0) || (iy_q >= $signed({2'b00, img_h_q})) ||
                   (ix_q < 0) || (ix_q >= $signed({2'b00, img_w_q}));

  // the tap walker steps in dense issue and while filling the table; the pixel walker after a
  // dense pixel's last tap or the generator's last row of a pixel
  logic tap_adv, pix_adv;
  assign tap_adv = issue || (state_q == SFill);
  assign pix_adv = (issue && last_tap) || (gen_fire && last_row);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      gi_q <= '0; oy_q <= '0; ox_q <= '0; j_q <= '0; ky_q <= '0; kx_q <= '0;
      pc_q <= '0; bub_q <= '0; t_q <= '0; r_q <= '0;
    end else begin
      case (state_q)
        SIdle: if (start_i && !h[0][7]) begin
          in_start_q  <= AW'($signed({h[3], h[2]}));
          img_h_q     <= h[4];
          img_w_q     <= h[5];
          in_pitch_q  <= h[6];
          ncg_in_q    <= h[7];
          ciw0_q      <= h[8];
          nciw_q      <= h[9];
          iy0_q       <= CW'($signed(h[10]));
          oy_cnt_q    <= h[11];
          out_w_q     <= h[12];
          {kw_q, kh_q} <= h[13];
          {sw_q, sh_q} <= h[14];
          pl_q        <= h[15][15:8];
          wg_q        <= AW'(h[16]);
          gstride_q   <= h[17];
          ng_q        <= h[18];
          pb0_q       <= h[19];
          goff_q      <= AW'(h[20]);
          glane_q     <= h[24][8 +: LaneIdxWidth];
          wleft_q     <= h[27];
          out_base_q  <= h[21];
          out_pitch_q <= h[22];
          ncg_out_q   <= h[23];
          zp_in_q     <= h[24][7:0];
          d_zp_out_q  <= h[25][7:0];
          d_lo_q      <= h[26][7:0];
          d_hi_q      <= h[26][15:8];
          pitch_sh_q  <= h[28];
          ncg_sw_q    <= h[29];
          cw_stride_q <= h[30];
          out_cw_stride_q <= h[31];
          skip_q      <= h[0][6];
          gi_q        <= '0;
          // the table walk starts at the first pixel's first tap
          j_q <= '0; kx_q <= '0; ky_q <= '0; t_q <= '0;
          a_trow_q <= AW'($signed({h[3], h[2]}));
          a_tap_q  <= AW'($signed({h[3], h[2]}));
          a_cur_q  <= AW'($signed({h[3], h[2]})) + AW'(h[8]);
          state_q     <= h[0][6] ? SFill : SGroupWait;
        end
        SFill: begin
          t_q <= t_q + TapW'(1);
          if (last_tap) begin
            ntaps_q  <= t_q + TapW'(1);
            last_r_q <= TabRowW'(t_q >> GW);
            state_q  <= SGroupWait;
          end
        end
        SGroupWait: if (set_free) state_q <= SGroupLoad;
        SGroupLoad: begin
          param_q[gsel] <= p_row_i;
          cow_q         <= goff_q;
          lane_q[gsel]  <= glane_q;
          if (PeOc > L) begin
            words_q[gsel] <= (wleft_q < 16'(WordsPerPixel)) ? WordCntWidth'(wleft_q) : WordCntWidth'(WordsPerPixel);
          end else begin
            words_q[gsel] <= WordCntWidth'(1);
          end
          oy_q <= '0; ox_q <= '0; ky_q <= '0; kx_q <= '0; j_q <= '0; pc_q <= '0; bub_q <= '0;
          r_q <= '0;
          a_row_q  <= in_start_q;
          a_pix_q  <= in_start_q;
          a_trow_q <= in_start_q;
          a_tap_q  <= in_start_q;
          a_cur_q  <= in_start_q + AW'(ciw0_q);
          iy_row_q <= iy0_q;
          iy_q     <= iy0_q;
          ix_pix_q <= -(CW'(pl_q));
          ix_q     <= -(CW'(pl_q));
          wa_q     <= wg_q;
          o_row_q  <= AW'(out_base_q);
          o_pix_q  <= AW'(out_base_q);
          state_q  <= SRun;
        end
        SRun: if (!skip_q) begin
          if (bub_q != '0) begin
            bub_q <= bub_q - PcWidth'(1);
          end else begin
            if (pc_q < PcWidth'(WordsPerPixel)) pc_q <= pc_q + PcWidth'(1);
            // Last tap of the pixel: the output writer needs WordsPerPixel cycles per result.
            if (last_tap) begin
              pc_q  <= '0;
              bub_q <= (pc_q + PcWidth'(1) < PcWidth'(WordsPerPixel))
                       ? PcWidth'(WordsPerPixel) - pc_q - PcWidth'(1) : '0;
            end
          end
        end else if (gen_fire) begin
          r_q <= last_row ? '0 : r_q + TabRowW'(1);
        end
        SFlush: if (!vA_q && !vB_q && count_q == '0) state_q <= (gi_q == ng_q) ? SDrain : SGroupWait;
        SDrain: if (drained) state_q <= SIdle;
        default: state_q <= SIdle;
      endcase

      if (tap_adv) begin
        if (!last_j) begin
          j_q     <= j_q + 16'd1;
          a_cur_q <= a_cur_q + AW'(cw_stride_q);
          wa_q    <= wa_q + AW'(1);
        end else if (!last_kx) begin
          j_q     <= '0;
          kx_q    <= kx_q + 8'd1;
          a_tap_q <= a_tap_q + AW'(ncg_in_q);
          a_cur_q <= a_tap_q + AW'(ncg_in_q) + AW'(ciw0_q);
          ix_q    <= ix_q + CW'(1);
          wa_q    <= wa_q + AW'(1);
        end else if (!last_ky) begin
          j_q      <= '0;
          kx_q     <= '0;
          ky_q     <= ky_q + 8'd1;
          a_trow_q <= a_trow_q + AW'(in_pitch_q);
          a_tap_q  <= a_trow_q + AW'(in_pitch_q);
          a_cur_q  <= a_trow_q + AW'(in_pitch_q) + AW'(ciw0_q);
          iy_q     <= iy_q + CW'(1);
          ix_q     <= ix_pix_q;
          wa_q     <= wa_q + AW'(1);
        end else begin
          j_q  <= '0;
          kx_q <= '0;
          ky_q <= '0;
          wa_q <= wg_q;
        end
      end

      if (pix_adv) begin
        if (!last_ox) begin
          ox_q     <= ox_q + 16'd1;
          a_pix_q  <= a_pix_q + AW'(ncg_sw_q);
          a_trow_q <= a_pix_q + AW'(ncg_sw_q);
          a_tap_q  <= a_pix_q + AW'(ncg_sw_q);
          a_cur_q  <= a_pix_q + AW'(ncg_sw_q) + AW'(ciw0_q);
          ix_pix_q <= ix_pix_q + CW'(sw_q);
          ix_q     <= ix_pix_q + CW'(sw_q);
          iy_q     <= iy_row_q;
          o_pix_q  <= o_pix_q + AW'(ncg_out_q);
        end else if (!last_oy) begin
          ox_q     <= '0;
          oy_q     <= oy_q + 16'd1;
          a_row_q  <= a_row_q + AW'(pitch_sh_q);
          a_pix_q  <= a_row_q + AW'(pitch_sh_q);
          a_trow_q <= a_row_q + AW'(pitch_sh_q);
          a_tap_q  <= a_row_q + AW'(pitch_sh_q);
          a_cur_q  <= a_row_q + AW'(pitch_sh_q) + AW'(ciw0_q);
          iy_row_q <= iy_row_q + CW'(sh_q);
          iy_q     <= iy_row_q + CW'(sh_q);
          ix_pix_q <= -(CW'(pl_q));
          ix_q     <= -(CW'(pl_q));
          o_row_q  <= o_row_q + AW'(out_pitch_q);
          o_pix_q  <= o_row_q + AW'(out_pitch_q);
        end else begin
          gi_q    <= gi_q + 16'd1;
          wg_q    <= wg_q + AW'(gstride_q);
          // the next group's output words: PeOc/L words on, or one word once the lanes wrap
          if (PeOc >= L) begin
            goff_q  <= goff_q + (AW'(out_cw_stride_q) << $clog2(WordsPerPixel));
            wleft_q <= wleft_q - 16'(WordsPerPixel);
          end else begin
            glane_q <= glane_q + LaneIdxWidth'(PeOc);
            if (32'(glane_q) + PeOc >= L) goff_q <= goff_q + AW'(out_cw_stride_q);
          end
          // skip mode lets the taps in flight drain before the next group's parameters load
          state_q <= skip_q ? SFlush : (last_g ? SDrain : SGroupWait);
        end
      end
    end
  end

  // ---------------------------------------------------------------- skip mode datapath
  for (genvar i = 0; i < G; i++) begin : g_lane
    logic [TabW-1:0] tab_mem_q [TabRows];
    logic            zf_mem_q [FlagRows];
    logic [InAddrWidth-1:0] toff;
    logic [7:0] tky, tkx;
    logic signed [CW-1:0] iy, ix;
    assign {toff, tky, tkx} = tab_q[i];
    assign tA[i]     = TapW'({rA_q, GW'(i)});
    assign validA[i] = (tA[i] < ntaps_q);
    assign addrA[i]  = AW'(apixA_q) + AW'(toff);
    assign iy        = iyA_q + CW'(tky);
    assign ix        = ixA_q + CW'(tkx);
    assign padA[i]   = (iy < 0) || (iy >= $signed({2'b00, img_h_q})) ||
                       (ix < 0) || (ix >= $signed({2'b00, img_w_q}));

    always_ff @(posedge clk_i) begin
      if (state_q == SFill && t_q[GW-1:0] == GW'(i)) begin
        tab_mem_q[TabRowW'(t_q >> GW)] <= {InAddrWidth'(a_cur_q - in_start_q), ky_q, kx_q};
      end
      if (gen_fire) tab_q[i] <= tab_mem_q[r_q];
      if (zf_we_i) zf_mem_q[zf_waddr_i] <= zf_wdata_i;
      zfB_q[i] <= zf_mem_q[FlagRowWidth'(addrA[i][InAddrWidth-1:0] >> $clog2(WordsPerRow))];
      addrB_q[i]  <= InAddrWidth'(addrA[i]);
      wB_q[i]     <= WAddrWidth'(wgA_q + AW'(tA[i]));
      validB_q[i] <= validA[i];
      padB_q[i]   <= padA[i];
      lastB_q[i]  <= (tA[i] == ntaps_q - TapW'(1));
    end
  end

  always_comb begin
    npush = '0;
    for (int unsigned i = 0; i < G; i++) begin
      zeroB[i]  = validB_q[i] && zfB_q[i] && !padB_q[i];
      keep[i]   = vB_q && validB_q[i] && (!zeroB[i] || lastB_q[i]);
      pos[i]    = npush;
      firstB[i] = keep[i] && !open_q && (npush == '0);
      npush     = npush + (FifoW + 1)'(keep[i]);
    end
  end

  always_ff @(posedge clk_i) begin
    if (gen_fire) begin
      rA_q     <= r_q;
      apixA_q  <= a_pix_q;
      iyA_q    <= iy_row_q;
      ixA_q    <= ix_pix_q;
      oaddrA_q <= OutAddrWidth'(o_pix_q + cow_q);
      gA_q     <= gsel;
      wgA_q    <= wg_q;
    end
    oaddrB_q <= oaddrA_q;
    gB_q     <= gA_q;
    for (int unsigned i = 0; i < G; i++) begin
      if (keep[i]) begin
        f_addr_q[FifoW'(wptr_q + FifoW'(pos[i]))]  <= addrB_q[i];
        f_w_q[FifoW'(wptr_q + FifoW'(pos[i]))]     <= wB_q[i];
        f_oaddr_q[FifoW'(wptr_q + FifoW'(pos[i]))] <= oaddrB_q;
        f_zero_q[FifoW'(wptr_q + FifoW'(pos[i]))]  <= padB_q[i] || zeroB[i];
        f_first_q[FifoW'(wptr_q + FifoW'(pos[i]))] <= firstB[i];
        f_last_q[FifoW'(wptr_q + FifoW'(pos[i]))]  <= lastB_q[i];
        f_g_q[FifoW'(wptr_q + FifoW'(pos[i]))]     <= gB_q;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      vA_q <= 1'b0; vB_q <= 1'b0; open_q <= 1'b0;
      wptr_q <= '0; rptr_q <= '0; count_q <= '0; gap_q <= '0;
    end else begin
      vA_q <= gen_fire;
      vB_q <= vA_q;
      if (state_q == SGroupLoad) open_q <= 1'b0;
      else if ((keep & lastB_q) != '0) open_q <= 1'b0;
      else if (keep != '0) open_q <= 1'b1;
      wptr_q  <= wptr_q + FifoW'(npush);
      rptr_q  <= rptr_q + FifoW'(pop);
      count_q <= count_q + npush - (FifoW + 1)'(pop);
      if (pop && f_last_q[rptr_q]) gap_q <= PcWidth'(WordsPerPixel - 1);
      else if (gap_q != '0) gap_q <= gap_q - PcWidth'(1);
    end
  end

  always_comb begin
    zero_taps_o = '0;
    for (int unsigned i = 0; i < G; i++) zero_taps_o = zero_taps_o + ZeroCntWidth'(zeroB[i] && vB_q);
  end
  assign tag_o = tag_q;

  // ---------------------------------------------------------------- reads and MAC pipeline
  // reads for the tap being issued (or the param row of the group about to load)
  // ---------------------------------------------------------------- gate mode
  logic g_in_re, g_w_re, g_p_re, g_pe_valid, g_res_valid;
  logic [InAddrWidth-1:0] g_in_addr;
  logic [WAddrWidth-1:0] g_w_addr;
  logic [PAddrWidth-1:0] g_p_addr;
  logic [PeOc*L*9-1:0] g_x;
  logic [PeOc*32-1:0] g_res_acc;
  logic [PeOc*15-1:0] g_res_mult;
  logic [PeOc*6-1:0]  g_res_shift;
  logic [OutAddrWidth-1:0] g_res_addr, g_res_stride;
  logic [WordCntWidth-1:0] g_res_words;
  logic [LaneIdxWidth-1:0] g_res_lane;
  logic signed [7:0] g_zp, g_lo, g_hi;
  logic              sum_valid;
  logic [PeOc*32-1:0] sum;
  gatec_gconv #(
    .PeOc (PeOc), .L (L), .InAddrWidth (InAddrWidth), .WAddrWidth (WAddrWidth),
    .PAddrWidth (PAddrWidth), .OutAddrWidth (OutAddrWidth), .RfWords (SkipTaps), .MaxGroups (MaxGroups),
    .WordsPerRow (WordsPerRow)
  ) u_gconv (
    .clk_i, .rst_ni, .start_i (start_i && h[0][7]), .instr_i, .busy_o (g_busy),
    .in_re_o (g_in_re), .in_addr_o (g_in_addr), .in_word_i, .in_word2_i,
    .w_re_o (g_w_re), .w_addr_o (g_w_addr), .p_re_o (g_p_re), .p_addr_o (g_p_addr), .p_row_i,
    .pe_valid_o (g_pe_valid), .pe_x_o (g_x), .pe_sum_i (sum), .wr_busy_i,
    .res_valid_o (g_res_valid), .res_acc_o (g_res_acc), .res_mult_o (g_res_mult),
    .res_shift_o (g_res_shift), .res_addr_o (g_res_addr), .res_words_o (g_res_words),
    .res_stride_o (g_res_stride), .res_lane_o (g_res_lane), .zp_out_o (g_zp), .lo_o (g_lo),
    .hi_o (g_hi), .gate_on_o
  );

  assign in_re_o   = issue || pop || g_in_re;
  assign in_addr_o = g_busy ? g_in_addr : skip_q ? f_addr_q[rptr_q] : InAddrWidth'(a_cur_q);
  assign w_re_o    = issue || pop || g_w_re;
  assign w_addr_o  = g_busy ? g_w_addr : skip_q ? f_w_q[rptr_q] : WAddrWidth'(wa_q);
  assign p_re_o    = ((state_q == SGroupWait) && set_free) || g_p_re;
  assign p_addr_o  = g_busy ? g_p_addr : PAddrWidth'(pb0_q + gi_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q <= 1'b0; v2_q <= 1'b0; v3_q <= 1'b0;
    end else begin
      v1_q <= issue || pop;
      v2_q <= v1_q;
      v3_q <= v2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    pad1_q   <= skip_q ? f_zero_q[rptr_q] : tap_pad;
    first1_q <= skip_q ? f_first_q[rptr_q] : ((j_q == '0) && (kx_q == '0) && (ky_q == '0));
    last1_q  <= skip_q ? f_last_q[rptr_q] : last_tap;
    oaddr1_q <= skip_q ? f_oaddr_q[rptr_q] : OutAddrWidth'(o_pix_q + cow_q);
    g1_q     <= skip_q ? f_g_q[rptr_q] : gsel;
    first2_q <= first1_q; last2_q <= last1_q; oaddr2_q <= oaddr1_q; g2_q <= g1_q;
    first3_q <= first2_q; last3_q <= last2_q; oaddr3_q <= oaddr2_q; g3_q <= g2_q;
  end

  logic [L*9-1:0] x_centred;
  always_comb begin
    for (int unsigned c = 0; c < L; c++) begin
      x_centred[c*9 +: 9] = pad1_q ? 9'd0
                          : 9'($signed(in_word_i[c*8 +: 8])) - 9'($signed(zp_in_q));
    end
  end

  gatec_pe_array #(.PeOc(PeOc), .PeIc(L), .SumWidth(32), .PerRowX(1'b1)) u_pe_array (
    .clk_i,
    .rst_ni,
    .valid_i (v1_q || g_pe_valid),
    .x_i     (g_busy ? g_x : {PeOc{x_centred}}),
    .w_i     (w_word_i),
    .valid_o (sum_valid),
    .sum_o   (sum)
  );

  // The accumulator starts from the bias at a pixel's first tap.
  logic [PeOc*32-1:0] acc_next;
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      acc_next[r*32 +: 32] = (first3_q ? param_q[g3_q][r*64 +: 32] : acc_q[r*32 +: 32]) + sum[r*32 +: 32];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) res_valid_q <= 1'b0;
    else res_valid_q <= sum_valid && v3_q && last3_q;
  end

  always_ff @(posedge clk_i) begin
    if (sum_valid) acc_q <= acc_next;
    if (sum_valid && last3_q) begin
      res_acc_q  <= acc_next;
      res_addr_q <= oaddr3_q;
      gres_q     <= g3_q;
    end
  end

  assign res_valid_o = res_valid_q || g_res_valid;
  assign res_acc_o   = g_busy ? g_res_acc : res_acc_q;
  assign res_addr_o  = g_busy ? g_res_addr : res_addr_q;
  assign res_words_o = g_busy ? g_res_words : words_q[gres_q];
  assign res_stride_o = g_busy ? g_res_stride : OutAddrWidth'(out_cw_stride_q);
  assign res_lane_o  = g_busy ? g_res_lane : lane_q[gres_q];
  assign zp_out_o    = g_busy ? g_zp : d_zp_out_q;
  assign lo_o        = g_busy ? g_lo : d_lo_q;
  assign hi_o        = g_busy ? g_hi : d_hi_q;
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      res_mult_o[r*15 +: 15] = g_busy ? g_res_mult[r*15 +: 15] : param_q[gres_q][r*64 + 32 +: 15];
      res_shift_o[r*6 +: 6]  = g_busy ? g_res_shift[r*6 +: 6] : param_q[gres_q][r*64 + 48 +: 6];
    end
  end
endmodule
